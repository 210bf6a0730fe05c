"""The tee's limits on a real listener (issue 15, item 3): memory, connections, slow senders.

A real hub and a real enodo-listener on loopback; the listener runs with small limits so
that the test stays small: FILLERS connections each send most of a package of the largest
allowed size as fast as the listener takes it, TRICKLERS start a package and send a byte
every TRICKLE_EVERY s, EXTRA connections come beyond `max_connections`. The listener's
peak RSS must stay within the total budget (plus slack for the interpreter and one read
chunk per connection), the extra connections are refused, the slow ones are closed, and a
SiriDB-shaped package sent meanwhile is counted.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from actors.listener.tee import HEADER, encode_package
from protocol.types import MessageType
from tests.support.hub import HubProcess, Peer
from tests.support.listener import ListenerProcess
from tests.support.waiting import wait_for

MIB = 1024 * 1024
MAX_PACKAGE = 8 * MIB
MAX_BUFFERED = 16 * MIB
FILLERS = 15
TRICKLERS = 3
MAX_CONNECTIONS = FILLERS + TRICKLERS + 1  # and one for SiriDB
EXTRA = 5
PACKAGE_TIMEOUT = 3.0
TRICKLE_EVERY = 0.2
# Interpreter, allocator rounding and up to one 256 KiB read per connection.
RSS_SLACK = 24 * MIB
WATCHED = "limits.watched"


def rss_peak(pid: int) -> int:
    """Peak resident set size of a process (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def rss_now(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc")


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """True when the other side closed (EOF or reset) within timeout seconds."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionError:
        return True
    except TimeoutError:
        return False


@pytest.fixture
def stack(tmp_path):
    hub = HubProcess(tmp_path).start()
    listener = ListenerProcess(tmp_path, hub.ports["control"], extra={
        "ENODO_LISTENER_LOG_LEVEL": "INFO",
        "ENODO_LISTENER_MAX_PACKAGE_SIZE": str(MAX_PACKAGE),
        "ENODO_LISTENER_MAX_BUFFERED": str(MAX_BUFFERED),
        "ENODO_LISTENER_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "ENODO_LISTENER_PACKAGE_TIMEOUT": str(PACKAGE_TIMEOUT),
    }).start()
    admin = Peer(hub.address("control"), "limits-admin", "client")
    assert admin.handshake().type is MessageType.HANDSHAKE_OK

    def api(action: str, **params):
        answer = admin.api(action, **params)
        if answer.type is MessageType.UNKNOWN_CLIENT:  # it sends no heartbeats: forgotten
            assert admin.handshake().type is MessageType.HANDSHAKE_OK
            answer = admin.api(action, **params)
        assert answer.type is MessageType.RESPONSE_OK, answer.body
        return answer.body["data"]

    api("add_series", name=WATCHED)
    wait_for(lambda: api("enodo_status")["peers"]["listener"] == 1, 15, "the listener online")
    yield listener, api
    admin.close()
    listener.stop()
    hub.stop()


def fill(sock: socket.socket) -> None:
    """Declare a package of MAX_PACKAGE bytes and send 7/8 of it, until the listener stalls."""
    sock.settimeout(2.0)
    chunk = b"\x00" * (256 * 1024)
    try:
        sock.sendall(HEADER.pack(MAX_PACKAGE, 0, 0, 0))
        for _ in range(MAX_PACKAGE * 7 // 8 // len(chunk)):
            sock.sendall(chunk)
    except OSError:  # stalled (the listener paused reading) or closed
        pass


def trickle(socks: list[socket.socket], stop: threading.Event) -> None:
    for sock in socks:
        sock.sendall(HEADER.pack(1000, 0, 0, 0) + b"\xfd")
    # Pacing a hostile sender, not synchronising: its byte rate is what is under test.
    while not stop.wait(TRICKLE_EVERY):
        for sock in socks:
            try:
                sock.send(b"\x00")
            except OSError:
                pass


def test_listener_memory_connections_and_slow_senders_are_bounded(stack):
    listener, api = stack
    pid = listener.proc.pid
    baseline = rss_now(pid)
    port = listener.tee_port

    def connect() -> socket.socket:
        return socket.create_connection(("127.0.0.1", port), timeout=5)

    fillers = [connect() for _ in range(FILLERS)]
    tricklers = [connect() for _ in range(TRICKLERS)]
    siridb = connect()
    extra = [connect() for _ in range(EXTRA)]
    stop = threading.Event()
    try:
        refused = sum(closed_by_peer(sock, 2.0) for sock in extra)
        assert refused == EXTRA, f"{EXTRA - refused} of {EXTRA} connections beyond the cap kept"

        threads = [threading.Thread(target=fill, args=(sock,)) for sock in fillers]
        threads.append(threading.Thread(target=trickle, args=(tricklers, stop)))
        for thread in threads:
            thread.start()
        for thread in threads[:-1]:
            thread.join(30)
            assert not thread.is_alive()

        # SiriDB's package is counted while the others hold (or held) the budget.
        siridb.sendall(encode_package({WATCHED: [[i, 1.0] for i in range(5)]}))
        wait_for(lambda: api("get_series", name=WATCHED)["points_counted"] == 5, 10,
                 "the SiriDB-shaped package counted")

        # Slow senders are closed once their package is PACKAGE_TIMEOUT s old; so are the
        # fillers, whose packages never finish.
        for sock in tricklers + fillers:
            assert closed_by_peer(sock, PACKAGE_TIMEOUT + 5), "a slow connection was kept"
        growth = rss_peak(pid) - baseline
        assert growth <= MAX_BUFFERED + RSS_SLACK, (
            f"listener RSS grew {growth / MIB:.0f} MiB (budget {MAX_BUFFERED / MIB:.0f} MiB)"
        )

        # The SiriDB connection, which sends whole packages, is still open and counted.
        siridb.sendall(encode_package({WATCHED: [[i, 1.0] for i in range(5, 8)]}))
        wait_for(lambda: api("get_series", name=WATCHED)["points_counted"] == 8, 10,
                 "the second package counted")
        assert listener.proc.poll() is None
        log = listener.log_path.read_text()
        assert "refused" in log and "unfinished after" in log
    finally:
        stop.set()
        for sock in fillers + tricklers + extra + [siridb]:
            sock.close()
