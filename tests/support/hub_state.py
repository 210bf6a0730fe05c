"""A HubState driven directly, for unit tests of the hub: clock, state, peers, job socket."""

from __future__ import annotations

from actors.hub.actions import run_action
from actors.hub.alert_book import AlertBook
from actors.hub.handlers import handle_control
from actors.hub.series import Series
from actors.hub.state import HubState
from actors.hub.store import Store
from protocol.envelope import Codec, Message
from protocol.errors import TransportError
from protocol.session import new_nonce
from protocol.types import MessageType


class FakeClock:
    """A clock that moves only when a test sets `now` (the state's monotonic and wall clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_state(path, token: str = "", clock: FakeClock | None = None,
               alerts: bool = False) -> HubState:
    """A HubState on a store in path (reopening the same path is a hub restart).

    alerts: with the hub's alert book (its delivery threads start at its first tick).
    """
    clock = clock or FakeClock()
    store = Store(str(path))
    return HubState(
        store, heartbeat_interval=1.0, liveness=3, token=token, version="t",
        clock=clock, wall=clock, alerts=AlertBook(store, wall=clock) if alerts else None,
    )


def hello(client_id: str, client_type: str, token: str | None = None,
          **extra: str) -> Message:
    """The HANDSHAKE a peer of client_type sends (a worker's with a fresh nonce)."""
    body = {"client_id": client_id, "client_type": client_type, "version": "t", "protocol": 1}
    if client_type == "worker":
        body["nonce"] = new_nonce()
    if token is not None:
        body["token"] = token
    body.update(extra)
    return Message(MessageType.HANDSHAKE, body)


#: Session key each job was sent under, by job id (what the worker would sign with).
JOB_KEYS: dict[str, bytes] = {}


class FakeJobs:
    """Stands in for the control socket's job sends: records jobs; `connected` False fails."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.routes: list[bytes] = []
        self.connected = True

    def send(self, msg: Message, route=None, flags: int = 0,
             session_key: bytes | None = None) -> None:
        if not self.connected:
            raise TransportError("no peer")
        self.sent.append(msg)
        self.routes.append(route[0] if route else b"")
        JOB_KEYS[msg.body["job_id"]] = session_key


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


def result(job_msg: Message, kind: MessageType, worker_id: str = "w1",
           key: bytes | None = None, **extra) -> Message:
    """A worker's answer of type kind to a sent job, MACed as it arrives at the hub.

    Signed with the key the job was sent under unless key is given.
    """
    job_id = job_msg.body["job_id"]
    body = {"job_id": job_id, "worker_id": worker_id, **extra}
    frames = Codec(worker_id).encode(Message(kind, body), key or JOB_KEYS[job_id])
    return Codec("hub").decode(frames)
