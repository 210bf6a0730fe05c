"""A HubState driven directly, for unit tests of the hub: clock, state, peers, job sends."""

from __future__ import annotations

from typing import Any

from actors.hub.actions import run_action
from actors.hub.alert_book import AlertBook
from actors.hub.handlers import handle_control
from actors.hub.series import Series
from actors.hub.siridb_link import NoSiriDB, SiriDB
from actors.hub.state import HubState
from actors.hub.store import Store
from protocol.alerts import Alert
from protocol.envelope import Codec, Message
from protocol.errors import ProtocolError, TransportError
from protocol.jobs import JobKind
from protocol.session import new_nonce
from protocol.types import MessageType


class RuleAlerts:
    """An alert sink keeping every alert but the system ones (each job done resolves its
    series' job alert), for tests of the alerts rules raise."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        if alert.kind != "system":
            self.alerts.append(alert)


class FakeClock:
    """A clock that moves only when a test sets `now` (the state's monotonic and wall clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_state(path, token: str = "", clock: FakeClock | None = None,
               siridb: SiriDB | None = None, alerts: bool = False) -> HubState:
    """A HubState on a store in path (reopening the same path is a hub restart).

    alerts: with the hub's alert book (its delivery threads start at its first tick).
    """
    clock = clock or FakeClock()
    store = Store(str(path))
    return HubState(
        store, heartbeat_interval=1.0, liveness=3, token=token, version="t",
        clock=clock, wall=clock, siridb=siridb,
        alerts=AlertBook(store, wall=clock) if alerts else None,
    )


class SaidSiriDB(NoSiriDB):
    """A SiriDB link that says what a test sets: `said` (connected unless told), `precision`."""

    configured = True

    def __init__(self, precision: str | None = None, **status: Any) -> None:
        super().__init__()
        self.precision = precision
        self.said = {"status": "connected", "configured": True, "connected": True,
                     "error": None, "host": "127.0.0.1", "port": 9000, "database": "dbtest",
                     **status}

    def status(self) -> dict[str, Any]:
        """What the test set."""
        return dict(self.said)


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


JOB_TYPES = frozenset(kind.message_type for kind in JobKind)


class FakeJobs:
    """The server's sends of the jobs the scheduler queued in the state's outbox.

    Reading `sent` or `routes` first takes the job messages out of the outbox, as the server
    does after the turn's commit (other messages stay), encodes each as the control socket
    would (under its worker's session key), and records it. A job that cannot be encoded,
    or any job while `connected` is False, is lost instead: the scheduler hears of it.
    """

    def __init__(self, state: HubState, max_size: int = 16 * 1024 * 1024) -> None:
        self.state = state
        self.codec = Codec("hub", max_size=max_size)
        self.connected = True
        self._sent: list[Message] = []
        self._routes: list[bytes] = []

    @property
    def sent(self) -> list[Message]:
        """The job messages sent so far, oldest first."""
        self._deliver()
        return self._sent

    @property
    def routes(self) -> list[bytes]:
        """The identity each of `sent` went to."""
        self._deliver()
        return self._routes

    def _deliver(self) -> None:
        rest = []
        for item in self.state.outbox.take():
            if item.msg.type not in JOB_TYPES:
                rest.append(item)
                continue
            try:
                self.codec.encode(item.msg, item.session_key)
                if not self.connected:
                    raise TransportError("send failed: Host unreachable")
            except (ProtocolError, TransportError) as exc:
                item.on_lost(exc)
                continue
            self._sent.append(item.msg)
            self._routes.append(item.identity)
            JOB_KEYS[item.msg.body["job_id"]] = item.session_key
        self.state.outbox.items[:0] = rest


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


def trained(state: HubState, jobs: FakeJobs, now: float, points: int = 10) -> Series:
    """Series "s" watched, a worker, `points` points, and its train job done (model {"m": 1})."""
    series = add_series(state)
    worker(state)
    counts(state, points)
    state.scheduler.dispatch(now)
    state.scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={
        "kind": "train", "state": {"m": 1}, "count": points}))
    return series
