"""The poll-loop session (a worker's) against an in-test ROUTER, on a fake clock."""

from __future__ import annotations

import pytest
import zmq

from actors.common.peer_session import HANDSHAKING, READY, WAITING
from actors.common.session_poll import PollSession
from protocol.envelope import Codec, Message
from protocol.jobs import JOB_TYPES
from protocol.session import new_nonce, session_key
from protocol.transport import Channel, bind, make_socket
from protocol.types import MessageType


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Hub:
    """A ROUTER that the test drives by hand."""

    def __init__(self, ctx: zmq.Context) -> None:
        self.channel = Channel(make_socket(ctx, zmq.ROUTER, 1 << 20), Codec("hub"))
        self.address = bind(self.channel.socket, "tcp://127.0.0.1:0")
        self.peer = b""
        self.hello: dict = {}
        self.nonce = ""
        self.key: bytes | None = None

    def recv(self, timeout: float = 5.0) -> Message:
        assert self.channel.socket.poll(timeout * 1000), "nothing from the worker"
        incoming = self.channel.recv()
        self.peer = incoming.peer
        if incoming.msg.type is MessageType.HANDSHAKE:
            self.hello = incoming.msg.body
        return incoming.msg

    def send(self, kind: MessageType, body: dict, key: bytes | None = None,
             nonce: bool = True) -> None:
        if kind is MessageType.HANDSHAKE_OK and nonce:
            self.nonce = new_nonce()
            body = {**body, "nonce": self.nonce}
            self.key = session_key(self.hello.get("token", ""), self.hello["client_id"],
                                   self.hello["nonce"], self.nonce)
        self.channel.send(Message(kind, body), [self.peer], session_key=key)


JOBS: list[Message] = []


@pytest.fixture
def setup():
    ctx = zmq.Context()
    hub = Hub(ctx)
    clock = Clock()
    poller = zmq.Poller()
    hello = {"client_id": "w-1", "client_type": "worker", "version": "t", "protocol": 1,
             "token": "tok"}
    JOBS.clear()
    link = PollSession(ctx, hub.address, Codec("w-1"), poller, lambda: dict(hello), keyed=True,
                       proven=JOB_TYPES, heartbeat_interval=1.0, liveness=3, reconnect_min=0.5,
                       reconnect_max=2.0, clock=clock, on_message=JOBS.append)
    link.status = {"busy": False, "job_id": None}
    yield link, hub, clock
    link.close()
    hub.channel.close()
    ctx.term()


def deliver(link: PollSession) -> None:
    """Wait (bounded) until the link's socket has input, then let it read."""
    assert link.socket is not None and link.socket.poll(5000), "nothing from the hub"
    link.on_readable()


def session(link, hub, clock, interval=0.5, liveness=2):
    link.start()
    link.due()
    assert hub.recv().type is MessageType.HANDSHAKE and link.state == HANDSHAKING
    hub.send(MessageType.HANDSHAKE_OK,
             {"hub_id": "h", "heartbeat_interval": interval, "liveness": liveness})
    deliver(link)
    assert link.ready and (link.session.interval, link.session.liveness) == (interval, liveness)


def test_handshake_then_heartbeats_on_schedule(setup):
    link, hub, clock = setup
    session(link, hub, clock)
    assert link.due() == pytest.approx(clock.now + 0.5)
    link.status = {"busy": True, "job_id": "j1"}
    beat = hub.recv()
    assert beat.type is MessageType.HEARTBEAT and beat.body == {"busy": False, "job_id": None}
    clock.now += 0.5
    link.due()
    assert hub.recv().body == {"busy": True, "job_id": "j1"}


def test_silent_hub_leads_to_backoff_and_a_new_handshake(setup):
    link, hub, clock = setup
    session(link, hub, clock)
    link.due()
    hub.recv()  # first heartbeat
    clock.now += 1.0  # liveness 2 x 0.5 s without a word
    assert link.due() == pytest.approx(clock.now + 0.5)
    assert link.state == WAITING and link.socket is None
    clock.now += 0.5
    link.due()
    assert link.state == HANDSHAKING and hub.recv().type is MessageType.HANDSHAKE
    # No answer: the next wait doubles, bounded by reconnect_max.
    clock.now += link.session.interval * link.session.liveness
    assert link.due() == pytest.approx(clock.now + 1.0)
    clock.now += 1.0
    link.due()
    hub.recv()
    clock.now += link.session.interval * link.session.liveness
    assert link.due() == pytest.approx(clock.now + 2.0)


def test_unknown_client_and_shutdown(setup):
    link, hub, clock = setup
    session(link, hub, clock)
    hub.send(MessageType.UNKNOWN_CLIENT, {})
    deliver(link)
    assert link.state == HANDSHAKING and hub.recv().type is MessageType.HANDSHAKE
    hub.send(MessageType.HANDSHAKE_OK, {"hub_id": "h", "heartbeat_interval": 0.5, "liveness": 2})
    deliver(link)
    hub.send(MessageType.SHUTDOWN, {"reason": "bye"})
    deliver(link)
    assert link.state == WAITING
    clock.now += 0.5
    link.due()
    assert hub.recv().type is MessageType.HANDSHAKE


def test_goodbye_only_in_session(setup):
    link, hub, clock = setup
    link.goodbye("stopping")  # no session yet: nothing to say
    session(link, hub, clock)
    link.goodbye("stopping")
    msg = hub.recv()
    assert (msg.type, msg.body) == (MessageType.SHUTDOWN, {"reason": "stopping"})
    assert link.state == READY


JOB = {"job_id": "u.1", "series": "s", "model": "arima", "model_parameters": {}, "state": None,
       "settings": {}, "attempt": 0}


def test_the_session_key_is_agreed_from_the_token_and_both_nonces(setup):
    link, hub, clock = setup
    session(link, hub, clock)
    hello = hub.hello
    assert len(hello["nonce"]) == 32 and hello["instance"] == link.session.instance
    assert link.session_key == session_key("tok", "w-1", hello["nonce"], hub.nonce)
    # A new session (a new handshake) has a new key; the instance stays.
    first = link.session_key
    hub.send(MessageType.UNKNOWN_CLIENT, {})
    deliver(link)
    assert link.session_key is None
    renewed = hub.recv().body
    assert renewed["instance"] == link.session.instance and renewed["nonce"] != hello["nonce"]
    hub.send(MessageType.HANDSHAKE_OK, {"hub_id": "h", "heartbeat_interval": 0.5, "liveness": 2})
    deliver(link)
    assert link.session_key not in (None, first) and link.session_key == hub.key


def test_only_jobs_macd_under_the_session_key_reach_the_worker(setup):
    link, hub, clock = setup
    session(link, hub, clock)
    hub.send(MessageType.TRAIN_MODEL, JOB)  # no MAC at all
    hub.send(MessageType.TRAIN_MODEL, JOB, key=b"k" * 32)  # a MAC under another key
    hub.send(MessageType.TRAIN_MODEL, {**JOB, "job_id": "u.2"}, key=hub.key)
    deliver(link)
    while link.socket.poll(200):
        link.on_readable()
    assert [m.body["job_id"] for m in JOBS] == ["u.2"]


def test_a_hub_answering_without_a_nonce_gets_no_session(setup):
    link, hub, clock = setup
    link.start()
    link.due()
    hub.recv()
    hub.send(MessageType.HANDSHAKE_OK, {"hub_id": "h", "heartbeat_interval": 0.5,
                                        "liveness": 2}, nonce=False)
    deliver(link)
    assert link.state == WAITING and link.session_key is None


def test_on_lost_tells_once_when_a_session_that_was_up_ends(setup):
    link, hub, clock = setup
    lost: list[str] = []
    link.on_lost = lambda: lost.append(link.state)
    link.start()
    link.due()
    hub.recv()
    clock.now += link.session.silence  # no answer to the HANDSHAKE: no session was lost
    link.due()
    assert lost == [] and link.state == WAITING
    clock.now = link.session.reconnect_at
    session(link, hub, clock)
    hub.send(MessageType.UNKNOWN_CLIENT, {})  # a new handshake ends the session
    deliver(link)
    assert lost == [HANDSHAKING]


def test_a_job_sent_ahead_of_the_welcome_is_proven_once_the_key_is_known(setup):
    link, hub, clock = setup
    link.start()
    link.due()
    hub.recv()
    # The hub admits us and sends a job in the same turn, the job first (the welcome goes
    # out after the turn's commit): it is held, then proven under the new session's key.
    nonce = new_nonce()
    key = session_key("tok", "w-1", hub.hello["nonce"], nonce)
    hub.send(MessageType.TRAIN_MODEL, {**JOB, "job_id": "u.early"}, key=key)
    hub.send(MessageType.TRAIN_MODEL, {**JOB, "job_id": "u.forged"}, key=b"k" * 32)
    hub.channel.send(Message(MessageType.HANDSHAKE_OK, {
        "hub_id": "h", "heartbeat_interval": 0.5, "liveness": 2, "nonce": nonce}), [hub.peer])
    while link.state != READY or link.socket.poll(200):
        deliver(link)
    assert [m.body["job_id"] for m in JOBS] == ["u.early"]
