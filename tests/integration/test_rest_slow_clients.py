"""Slow HTTP clients must not stop the REST API (issue 15, item 2): real gunicorn, real hub.

SLOW connections each send a request line and then trickle header bytes, as a slowloris
does; meanwhile ordinary requests must be answered quickly, and the server must close the
slow connections once their headers took longer than `keepalive` seconds. Everything is on
loopback and bounded: SLOW sockets, NORMAL requests, each with a timeout.
"""

from __future__ import annotations

import select
import signal
import socket
import threading
import time

import pytest

from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess

SLOW = 30
NORMAL = 20
KEEPALIVE = 2  # seconds a request's line and headers may take (ENODO_API_KEEPALIVE)
TRICKLE_EVERY = 0.2  # seconds between two header bytes of a slow client
ANSWER_WITHIN = 2.0  # an ordinary request's longest acceptable time


@pytest.fixture
def api(tmp_path):
    hub = HubProcess(tmp_path).start()
    # The shipped worker model and worker count; only the header time is shortened.
    server = Gunicorn("api.wsgi:app", workers=2, env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_KEEPALIVE": str(KEEPALIVE),
    }).start()
    yield server
    server.stop()
    hub.stop(signal.SIGKILL)


class Slowloris:
    """SLOW connections that send a request line, then one header byte per TRICKLE_EVERY s."""

    def __init__(self, port: int, count: int) -> None:
        self.socks = [
            socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)
        ]
        for sock in self.socks:
            sock.sendall(b"GET /series HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        self.closed_at: dict[int, float] = {}
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        # Pacing a hostile client, not synchronising: the byte rate is what is under test.
        while not self._stop.wait(TRICKLE_EVERY):
            for i, sock in enumerate(self.socks):
                if i in self.closed_at:
                    continue
                try:
                    sock.send(b"x")
                except OSError:
                    self.closed_at[i] = time.monotonic()

    def wait_all_closed(self, timeout: float) -> int:
        """Wait until the server has closed every slow connection; return how many it did."""
        deadline = time.monotonic() + timeout
        open_socks = dict(enumerate(self.socks))
        while open_socks and time.monotonic() < deadline:
            readable, _, _ = select.select(list(open_socks.values()), [], [], 0.1)
            for sock in readable:
                i = self.socks.index(sock)
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:  # EOF (or reset): the server gave up on it
                    self.closed_at.setdefault(i, time.monotonic())
                    del open_socks[i]
            for i in list(open_socks):
                if i in self.closed_at:
                    del open_socks[i]
        return len(self.socks) - len(open_socks)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.socks:
            sock.close()


def test_api_keeps_answering_while_clients_send_headers_slowly(api):
    slow = Slowloris(api.port, SLOW)
    try:
        took = []
        for _ in range(NORMAL):
            start = time.monotonic()
            status, _, body = api.request("GET", "/series", timeout=ANSWER_WITHIN + 3)
            took.append(time.monotonic() - start)
            assert status == 200 and body["series"] == []
        assert max(took) < ANSWER_WITHIN, f"slowest of {NORMAL} requests: {max(took):.2f} s"

        # Each slow client is cut off once its headers took KEEPALIVE seconds (plus slack).
        closed = slow.wait_all_closed(timeout=KEEPALIVE + 5)
        assert closed == SLOW, f"{SLOW - closed} of {SLOW} slow connections still open"
        longest = max(slow.closed_at.values()) - slow.started
        assert longest < KEEPALIVE + 3, f"last slow connection closed after {longest:.1f} s"
    finally:
        slow.close()
    assert api.request("GET", "/series")[0] == 200


def test_a_request_waiting_for_the_hub_does_not_block_its_worker(tmp_path):
    """One gevent worker: while one request waits 3 s for a stopped hub, others are answered."""
    hub = HubProcess(tmp_path).start()
    server = Gunicorn("api.wsgi:app", workers=1, env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_TIMEOUT": "3",
    }).start()
    try:
        hub.proc.send_signal(signal.SIGSTOP)
        waiting: dict[str, float] = {}

        def ask_the_hub() -> None:
            start = time.monotonic()
            waiting["status"] = server.request("GET", "/series", timeout=10)[0]
            waiting["took"] = time.monotonic() - start

        asker = threading.Thread(target=ask_the_hub)
        asker.start()
        took = []
        while asker.is_alive():  # /openapi.json needs no hub: it must not queue behind
            start = time.monotonic()
            assert server.request("GET", "/openapi.json", timeout=5)[0] == 200
            took.append(time.monotonic() - start)
        asker.join()
        assert waiting["status"] == 503 and waiting["took"] >= 2.5
        slowest = max(took)
        assert len(took) >= 3 and slowest < 1.0, f"{len(took)} requests, slowest {slowest:.2f} s"
    finally:
        hub.proc.send_signal(signal.SIGCONT)
        server.stop()
        hub.stop(signal.SIGKILL)


def read_answer(sock: socket.socket) -> bytes:
    """One HTTP response (headers and a Content-Length body) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


SLOW_BODIES = 10
BODY_TIMEOUT = 2


def test_a_body_sent_slowly_is_answered_408_and_changes_nothing(tmp_path):
    hub = HubProcess(tmp_path).start()
    server = Gunicorn("api.wsgi:app", workers=2, env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_BODY_TIMEOUT": str(BODY_TIMEOUT),
    }).start()
    body = b'{"name": "slow-series"}'
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5)
             for _ in range(SLOW_BODIES)]
    stop = threading.Event()

    def trickle() -> None:
        for sock in socks:
            sock.sendall(b"POST /series HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body))
        # Pacing a hostile client: one byte of its body per TRICKLE_EVERY s.
        for i in range(len(body) - 1):  # never the last byte
            if stop.wait(TRICKLE_EVERY):
                return
            for sock in socks:
                try:
                    sock.send(body[i:i + 1])
                except OSError:
                    pass

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        started = time.monotonic()
        for _ in range(5):  # others are served meanwhile
            assert server.request("GET", "/series", timeout=ANSWER_WITHIN)[0] == 200
        for sock in socks:
            sock.settimeout(BODY_TIMEOUT + 4)
            answer = read_answer(sock)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
            assert b'"code":"timeout"' in answer
        assert time.monotonic() - started < BODY_TIMEOUT + 3
        assert server.request("GET", "/series")[2]["total"] == 0  # nothing was added
    finally:
        stop.set()
        sender.join(5)
        for sock in socks:
            sock.close()
        server.stop()
        hub.stop(signal.SIGKILL)
