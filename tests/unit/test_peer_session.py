"""PeerSession without sockets: the HANDSHAKE body, the welcome, liveness and one backoff."""

from __future__ import annotations

import pytest

from actors.common.backoff import Backoff, doubling
from actors.common.peer_session import (
    HANDSHAKING,
    READY,
    WAITING,
    PeerSession,
    Signal,
    hello_body,
)
from protocol.envelope import Message
from protocol.session import new_nonce, session_key
from protocol.types import MessageType


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def answer(hello: Message, kind: MessageType, **body) -> Message:
    return Message(kind, body, reply_to=hello.id)


WELCOME = {"hub_id": "h", "heartbeat_interval": 0.5, "liveness": 4}


def test_the_hello_body_is_the_wire_s_the_token_only_when_set():
    assert hello_body("l-1", "listener", "1.0") == {
        "client_id": "l-1", "client_type": "listener", "version": "1.0", "protocol": 1}
    body = hello_body("w-1", "worker", "1.0", "tok", capacity=2, models=["arima"])
    assert body["token"] == "tok" and (body["capacity"], body["models"]) == (2, ["arima"])


def test_a_welcome_sets_the_session_s_heartbeat_and_liveness():
    clock = Clock()
    session = PeerSession(lambda: hello_body("c", "client", "t"), clock=clock)
    hello = session.handshake()
    assert session.state == HANDSHAKING and "nonce" not in hello.body
    assert session.on_message(answer(hello, MessageType.HANDSHAKE_OK, **WELCOME)) is Signal.READY
    assert (session.state, session.interval, session.liveness) == (READY, 0.5, 4)
    assert session.heartbeat_due()  # the first at once
    assert session.heartbeat().type is MessageType.HEARTBEAT and not session.heartbeat_due()
    clock.now += 1.9
    session.on_message(Message(MessageType.HEARTBEAT, {}))
    clock.now += 1.9
    assert not session.expired()  # heard 1.9 s ago, silence is 2 s
    clock.now += 0.1
    assert session.expired()


def test_a_keyed_session_derives_the_key_and_refuses_a_welcome_without_a_nonce():
    session = PeerSession(lambda: hello_body("w", "worker", "t", "tok"), keyed=True)
    hello = session.handshake()
    assert len(hello.body["nonce"]) == 32 and hello.body["instance"] == session.instance
    nonce = new_nonce()
    session.on_message(answer(hello, MessageType.HANDSHAKE_OK, nonce=nonce, **WELCOME))
    assert session.session_key == session_key("tok", "w", hello.body["nonce"], nonce)
    again = session.handshake()
    assert session.session_key is None and again.body["instance"] == hello.body["instance"]
    signal = session.on_message(answer(again, MessageType.HANDSHAKE_OK, **WELCOME))
    assert signal is Signal.REFUSED and session.session_key is None


@pytest.mark.parametrize("kind", [MessageType.HANDSHAKE_FAIL, MessageType.ERROR])
def test_a_refusal_of_our_hello_is_refused_another_s_answer_is_not(kind):
    session = PeerSession(lambda: hello_body("c", "client", "t"))
    hello = session.handshake()
    other = Message(kind, {"code": "unauthorized", "message": "no"}, reply_to="someone-else")
    assert session.on_message(other) is not Signal.REFUSED
    refusal = answer(hello, kind, code="unauthorized", message="no")
    assert session.on_message(refusal) is Signal.REFUSED and session.state == HANDSHAKING


def test_reconnects_back_off_doubling_and_a_welcome_or_the_hub_s_shutdown_resets():
    clock = Clock()
    session = PeerSession(lambda: hello_body("c", "client", "t"),
                          backoff=Backoff(0.5, 2.0), clock=clock)
    delays = []
    for _ in range(4):
        session.handshake()
        delays.append(session.end())
    assert delays == [0.5, 1.0, 2.0, 2.0] and session.state == WAITING
    assert session.deadline() == clock.now + 2.0
    hello = session.handshake()
    session.on_message(answer(hello, MessageType.HANDSHAKE_OK, **WELCOME))
    assert session.end() == 0.5
    session.end()
    assert session.on_message(Message(MessageType.SHUTDOWN, {"reason": "x"})) is Signal.LEAVING
    assert session.end() == 0.5


def test_doubling_is_the_hub_s_job_retry_delay():
    assert [doubling(n, 1.0, 60.0) for n in (0, 1, 2, 3, 7, 8)] == [1, 1, 2, 4, 60, 60]
