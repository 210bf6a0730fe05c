"""Hostile input on the listener's tee (TCP and Unix socket): bytes, lies and cut-offs.

Each case is one connection sending random bytes, framed packages with random QPack-ish
bodies, huge declared lengths or partial packages, in random chunks. The listener must
close the connection or read on, log the connection's end (the test waits for that
line), stay up, keep its hub session, and still count a real package exactly afterwards.
"""

from __future__ import annotations

import socket

import pytest
from hypothesis import given

from actors.listener.tee import encode_package
from protocol.types import MessageType
from tests.fuzz.cases import fuzz_settings, tried
from tests.fuzz.peers import LogTail
from tests.fuzz.strategies import tee_streams
from tests.support.hub import HubProcess, Peer
from tests.support.listener import ListenerProcess
from tests.support.waiting import wait_for

WATCHED = "fuzz.watched"


class Stack:
    def __init__(self, hub: HubProcess, listener: ListenerProcess, unix_path: str) -> None:
        self.hub, self.listener, self.unix_path = hub, listener, unix_path
        self.log = LogTail(listener.log_path)
        self.admin = Peer(hub.address("control"), "fuzz-tee-admin", "client")
        assert self.admin.handshake().type is MessageType.HANDSHAKE_OK
        self.delivered = 0

    def api(self, action: str, **params):
        answer = self.admin.api(action, **params)
        if answer.type is MessageType.UNKNOWN_CLIENT:  # silent while fuzzing: forgotten
            assert self.admin.handshake().type is MessageType.HANDSHAKE_OK
            answer = self.admin.api(action, **params)
        assert answer.type is MessageType.RESPONSE_OK, answer.body
        return answer.body["data"]

    def counted(self) -> int:
        return self.api("get_series", name=WATCHED)["points_counted"]

    def assert_counts_exactly(self, points: int = 5) -> None:
        """A real package sent now is counted once: the listener's state is intact."""
        assert self.listener.proc.poll() is None, self.listener.log_path.read_text()[-3000:]
        with socket.create_connection(("127.0.0.1", self.listener.tee_port), timeout=5) as conn:
            conn.sendall(encode_package({WATCHED: [[i, 1.0] for i in range(points)]}))
        self.delivered += points
        wait_for(lambda: self.counted() == self.delivered, 10, f"{self.delivered} points counted")
        assert self.api("enodo_status")["peers"]["listener"] == 1


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tee-fuzz")
    hub = HubProcess(tmp).start()
    unix_path = str(tmp / "tee.sock")
    listener = ListenerProcess(tmp, hub.ports["control"], extra={
        "ENODO_LISTENER_TEE_UNIX_PATH": unix_path,
        "ENODO_LISTENER_MAX_PACKAGE_SIZE": str(1 << 20),
        # test_many_connections_with_unfinished_packages holds 200 at once (default cap: 64).
        "ENODO_LISTENER_MAX_CONNECTIONS": "256",
    }).start()
    stack = Stack(hub, listener, unix_path)
    stack.api("add_series", name=WATCHED)
    wait_for(lambda: stack.api("enodo_status")["peers"]["listener"] == 1, 15,
             "the listener to come online")
    stack.assert_counts_exactly()
    yield stack
    stack.admin.close()
    listener.stop()
    hub.stop()


def send_quietly(conn: socket.socket, chunks: list[bytes]) -> None:
    """Send chunks; the listener may close the connection on the first bad package."""
    try:
        for chunk in chunks:
            conn.sendall(chunk)
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def tcp_property(stack: Stack, examples: int) -> None:
    @fuzz_settings(examples)
    @given(chunks=tee_streams())
    def feed(chunks):
        with socket.create_connection(("127.0.0.1", stack.listener.tee_port), timeout=5) as conn:
            peer = f"127.0.0.1:{conn.getsockname()[1]}"
            stack.log.wait_for(f"connection from {peer}")
            send_quietly(conn, chunks)
        # The listener logs how each connection ended; everything it sent was handled then.
        wait_for(lambda: f"{peer} closed" in stack.log.read()
                 or f"closing connection from {peer}" in stack.log.text, 5,
                 f"the listener to finish with {peer}")
        assert stack.listener.proc.poll() is None
        tried("listener tee TCP")

    feed()


def unix_property(stack: Stack, examples: int) -> None:
    @fuzz_settings(examples)
    @given(chunks=tee_streams())
    def feed(chunks):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(stack.unix_path)
            send_quietly(conn, chunks)
        assert stack.listener.proc.poll() is None
        tried("listener tee Unix socket")

    feed()


@pytest.mark.parametrize("target,examples", [(tcp_property, 100), (unix_property, 30)],
                         ids=["tcp", "unix"])
def test_tee_survives_hostile_streams(stack, target, examples):
    target(stack, examples)
    stack.assert_counts_exactly()


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("target", [tcp_property, unix_property], ids=["tcp", "unix"])
def test_tee_survives_hostile_streams_deep(stack, target):
    target(stack, 3000)
    stack.assert_counts_exactly()


def test_many_connections_with_unfinished_packages(stack):
    conns = []
    log = LogTail(stack.listener.log_path)
    try:
        for i in range(200):
            conn = socket.create_connection(("127.0.0.1", stack.listener.tee_port), timeout=5)
            conns.append(conn)
            # Half a header, a header promising more than comes, or a header over the limit.
            conn.sendall([b"\x10\x00", b"\x40\x00\x00\x00\x00\x00\x00\x00\xfd",
                          b"\xff\xff\xff\xff\x00\x00\x00\x00"][i % 3])
        wait_for(lambda: log.read().count("connection from 127.0.0.1") >= 200, 15,
                 "the listener to accept 200 connections")
        stack.assert_counts_exactly()  # served while 200 others hang mid-package
    finally:
        for conn in conns:
            conn.close()
    tried("listener tee TCP", 200)
    stack.assert_counts_exactly()
