"""A HubState driven directly, for unit tests of the hub: clock, state, peers, job socket."""

from __future__ import annotations

from actors.hub.actions import run_action
from actors.hub.handlers import handle_control
from actors.hub.series import Series
from actors.hub.state import HubState
from actors.hub.store import Store
from protocol.envelope import Message
from protocol.errors import TransportError
from protocol.types import MessageType


class FakeClock:
    """A clock that moves only when a test sets `now` (the state's monotonic and wall clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_state(path, token: str = "", clock: FakeClock | None = None) -> HubState:
    """A HubState on a store in path (reopening the same path is a hub restart)."""
    clock = clock or FakeClock()
    return HubState(
        Store(str(path)), heartbeat_interval=1.0, liveness=3, token=token, version="t",
        clock=clock, wall=clock,
    )


def hello(client_id: str, client_type: str, token: str | None = None) -> Message:
    """The HANDSHAKE a peer of client_type sends."""
    body = {"client_id": client_id, "client_type": client_type, "version": "t", "protocol": 1}
    if token is not None:
        body["token"] = token
    return Message(MessageType.HANDSHAKE, body)


class FakeJobs:
    """Stands in for the PUSH socket: records jobs; `connected` False mimics no worker."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.connected = True

    def send(self, msg: Message, route=None, flags: int = 0) -> None:
        if not self.connected:
            raise TransportError("no peer")
        self.sent.append(msg)


def add_series(state: HubState, name: str = "s") -> Series:
    """Watch a series through the API action; return it."""
    run_action(state, "add_series", {"name": name})
    return state.series.get(name)


def counts(state: HubState, n: int, name: str = "s") -> None:
    """A listener reports n new points of a series."""
    state.add_counts({name: n})


def worker(state: HubState, ident: bytes = b"W", wid: str = "w1") -> None:
    """A worker handshakes."""
    handle_control(state, ident, hello(wid, "worker"))


def result(job_msg: Message, kind: MessageType, **extra) -> Message:
    """worker w1's answer of type kind to a pushed job."""
    body = {"job_id": job_msg.body["job_id"], "worker_id": "w1"}
    return Message(kind, {**body, **extra})
