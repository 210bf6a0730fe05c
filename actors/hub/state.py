"""The hub's state and the operations on it; no sockets here, only an outbox."""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from actors.hub.alert_sources import series_removed_alerts
from actors.hub.compact import share
from actors.hub.detection import check_anomaly_settings
from actors.hub.models import check_model
from actors.hub.outbox import Outbox
from actors.hub.patterns import PatternBook
from actors.hub.peers import Peer, PeerTable
from actors.hub.reconcile import Reconciler
from actors.hub.rules import resolve_all
from actors.hub.scheduler import Scheduler
from actors.hub.series import CHECKED_COUNT, MAX_POINTS, Series, SeriesRegistry
from actors.hub.siridb_link import NoSiriDB, SiriDB
from actors.hub.store import Store
from actors.hub.telemetry import HubMetrics
from protocol.alerts import AlertSink, NoAlerts
from protocol.envelope import Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.rules import check_horizon, check_rules
from protocol.session import new_nonce, session_key
from protocol.settings import defaults, stored_settings, validate_changes
from protocol.types import ClientType, MessageType

log = logging.getLogger(__name__)


class HubState:
    """Everything the hub owns: series, settings, peers, known clients, events."""

    def __init__(
        self,
        store: Store,
        *,
        heartbeat_interval: float = 1.0,
        liveness: int = 3,
        token: str = "",
        version: str = "",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        metrics: HubMetrics | None = None,
        alerts: AlertSink | None = None,
        siridb: SiriDB | None = None,
    ) -> None:
        self.store = store
        #: Where alert changes go (protocol/alerts.py); sources call self.alerts.notify().
        self.alerts: AlertSink = alerts or NoAlerts()
        self.metrics = metrics or HubMetrics()  # a fresh registry unless main gives one
        self.heartbeat_interval = heartbeat_interval
        self.liveness = liveness
        self.token = token
        self.version = version
        self.clock = clock
        self.wall = wall
        self.started_at = clock()
        self.outbox = Outbox()
        self.peers = PeerTable()
        self.series = SeriesRegistry(store)
        self.patterns = PatternBook(store)  # watch by pattern (actors/hub/pattern_watch.py)
        self.settings = defaults()
        self.settings.update(stored_settings(store.load_settings(), log.warning))
        self.clients: dict[str, dict[str, Any]] = {}
        self._clients_dirty: set[str] = set()
        for client_id, client_type, info in store.load_clients():
            info.update(client_type=client_type, online=False)
            self.clients[client_id] = info
        self.hub_id = store.get_meta("hub_id") or uuid.uuid4().hex
        store.set_meta("hub_id", self.hub_id)
        #: The hub's SiriDB connection: its status, time precision, and count queries.
        self.siridb: SiriDB = siridb or NoSiriDB()
        # Last, as both read the series, settings and stored jobs above.
        #: Which job each series needs, sent to idle workers; leases, results, job records.
        self.scheduler = Scheduler(self)
        #: SiriDB's count of each series now and then, to correct the listeners' counts.
        self.reconciler = Reconciler(self, self.siridb)

    # events -----------------------------------------------------------------
    def event(
        self, kind: str, message: str, series: str | None = None, level: str = "info"
    ) -> None:
        """Append an event to the log (and to the process log)."""
        log.log(logging.WARNING if level != "info" else logging.INFO, "%s: %s", kind, message,
                extra={"rate_key": ("event", kind)})
        self.store.add_event(self.wall(), level, kind, message, series)

    # series -----------------------------------------------------------------
    def add_series(
        self, name: str, model: str | int | None, params: dict | None, realtime: bool,
        anomaly: dict | None = None, rules: list | None = None, horizon: int | str | None = None,
    ) -> Series:
        """Start watching a series; ProtocolError CONFLICT or INVALID when it cannot be."""
        if name in self.series:
            raise ProtocolError(ErrorCode.CONFLICT, f"series {name!r} already exists")
        model_name, clean = check_model(
            model if model is not None else self.settings["default_model"], params or {}
        )
        anomaly_settings = check_anomaly_settings(anomaly)
        series = Series(name, model_name, share(clean), realtime, self.wall(),
                        anomaly=share(anomaly_settings), rules=check_rules(rules),
                        horizon=check_horizon(horizon))
        self.series.add(series)
        self.patterns.on_added(name)
        self.event("series_added", f"series {name!r} added with model {model_name}", name)
        note = Message(MessageType.ADD_SERIE, {"name": name, "realtime": realtime})
        for peer in self.peers.of_type(ClientType.LISTENER):
            self.outbox.send(peer.identity, note)
        self.publish(name, "added", series.summary())
        self.reconciler.urgent(name)  # at the next turn: it may come with history
        self.scheduler.consider(series)  # its first job, if it has enough points already
        return series

    def remove_series(self, name: str) -> None:
        """Stop watching a series and forget what the hub holds for it (its alerts resolve:
        its open anomaly events and its firing rules; its pattern, if any, excludes it)."""
        series = self.get_series(name)
        events = self.store.get_output(name, "anomaly_events") or []
        resolve_all(self, series, "series removed")
        self.series.remove(name)
        self.patterns.on_removed(name, self.wall())
        for alert in series_removed_alerts(name, series.model, events, self.wall()):
            self.alerts.notify(alert)
        self.event("series_removed", f"series {name!r} removed", name)
        note = Message(MessageType.REMOVE_SERIE, {"name": name})
        for peer in self.peers.of_type(ClientType.LISTENER):
            self.outbox.send(peer.identity, note)
        self.publish(name, "removed", {"name": name})

    def get_series(self, name: str) -> Series:
        """Return a series or raise ProtocolError(NOT_FOUND)."""
        series = self.series.get(name)
        if series is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"series {name!r} not found")
        return series

    def watch_list(self) -> list[dict[str, Any]]:
        """Return the UPDATE_SERIES list for listeners."""
        return [{"name": s.name, "realtime": s.realtime} for s in self.series]

    def publish(self, name: str, event: str, data: dict[str, Any]) -> None:
        """Push a SERIES_UPDATE to every client that follows series `name`."""
        msg = None
        for peer in self.peers.of_type(ClientType.CLIENT):
            if peer.follows(name):
                msg = msg or Message(
                    MessageType.SERIES_UPDATE, {"name": name, "event": event, "data": data}
                )
                self.outbox.send(peer.identity, msg)

    # settings ---------------------------------------------------------------
    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate and apply setting changes (all or nothing); return all settings."""
        clean = validate_changes(changes, check_model=lambda m: check_model(m, {}))
        self.settings.update(clean)
        self.store.put_settings(clean)
        self.event("settings_changed", "settings changed: " + ", ".join(sorted(clean)))
        return dict(self.settings)

    # peers ------------------------------------------------------------------
    def admit(self, identity: bytes, body: dict[str, Any]) -> Peer:
        """Register a handshaking peer, or raise ProtocolError (UNAUTHORIZED, INVALID)."""
        if not self.check_token(body.get("token")):
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "token missing or wrong")
        if body["protocol"] != 1:
            raise ProtocolError(ErrorCode.BAD_VERSION, f"protocol {body['protocol']} unsupported")
        client_type = ClientType(body["client_type"])
        if client_type is ClientType.WORKER and "nonce" not in body:
            # Without a session key its jobs and results could not be proven.
            raise ProtocolError(ErrorCode.INVALID, "a worker's HANDSHAKE must carry a nonce")
        self._refuse_duplicate(identity, body, client_type)
        peer = Peer(
            identity=identity,
            client_id=body["client_id"],
            client_type=client_type,
            version=body["version"],
            expires_at=self.expiry(),
            capacity=body.get("capacity", 1),
            models=body.get("models", []),
            instance=body.get("instance"),
        )
        if "nonce" in body:
            peer.hub_nonce = new_nonce()
            peer.session_key = session_key(
                self.token, peer.client_id, body["nonce"], peer.hub_nonce)
        old = self.peers.add(peer)
        if old is not None and old.identity != identity:
            self.drop_peer(old, "replaced by a new connection", remove=False)
        now = self.wall()
        info = self.clients.setdefault(peer.client_id, {"first_seen": now})
        info.update(
            client_type=peer.client_type.value, version=peer.version, online=True, last_seen=now
        )
        self._clients_dirty.add(peer.client_id)
        self.event("client_online", f"{peer.client_type.value} {peer.client_id} online")
        return peer

    def _refuse_duplicate(self, identity: bytes, body: dict[str, Any], kind: ClientType) -> None:
        """CONFLICT when another live connection is this worker's id (two workers, one id).

        Replacing the older one each time made two such workers swap places many times a
        minute, each swap re-queueing the other's job. The same process reconnecting (same
        instance) still replaces its old session, and an expired peer is simply replaced.
        """
        old = self.peers.by_client_id(body["client_id"])
        if (kind is not ClientType.WORKER or old is None or old.identity == identity
                or old.expires_at <= self.clock()
                or (old.instance is not None and old.instance == body.get("instance"))):
            return
        log.warning("refused a second worker with id %r while the first is online "
                    "(give each worker its own worker_id)", old.client_id)
        raise ProtocolError(
            ErrorCode.CONFLICT,
            f"worker id {old.client_id!r} is already online on another connection; "
            "give each worker its own worker_id (this one retries until that one is gone)",
        )

    def check_token(self, token: str | None) -> bool:
        """True when token is the hub's (compared in constant time), or the hub has none."""
        if not self.token:
            return True
        return token is not None and hmac.compare_digest(token.encode(), self.token.encode())

    def expiry(self) -> float:
        """Return the deadline by which a peer must be heard from again."""
        return self.clock() + self.heartbeat_interval * self.liveness

    def seen(self, peer: Peer) -> None:
        """Note that a peer was heard from: its expiry moves on."""
        peer.expires_at = self.expiry()
        info = self.clients.get(peer.client_id)
        if info is not None:
            info["last_seen"] = self.wall()
            self._clients_dirty.add(peer.client_id)

    def drop_peer(self, peer: Peer, reason: str, remove: bool = True) -> None:
        """Forget a peer and everything that points to it."""
        if remove:
            self.peers.remove(peer.identity)
        self.scheduler.on_peer_dropped(peer)  # a worker's jobs go back to the queue
        info = self.clients.get(peer.client_id)
        if info is not None and self.peers.by_client_id(peer.client_id) is None:
            info["online"] = False
            self._clients_dirty.add(peer.client_id)
        self.event(
            "client_offline", f"{peer.client_type.value} {peer.client_id} offline: {reason}"
        )

    def list_clients(self) -> list[dict[str, Any]]:
        """Return every client ever seen with its online state."""
        return [{"client_id": cid, **info} for cid, info in sorted(self.clients.items())]

    def flush(self) -> None:
        """Write the turn's pending changes (jobs, series runtimes, client records)."""
        self.scheduler.flush()
        self.series.flush()
        if self._clients_dirty:
            rows = [
                (cid, self.clients[cid]["client_type"], self.clients[cid])
                for cid in self._clients_dirty
            ]
            self.store.put_clients(rows)
            self._clients_dirty.clear()

    # counts -----------------------------------------------------------------
    def add_counts(self, counts: dict[str, int]) -> int:
        """Add new-point counts from a listener; return how many series they matched.

        ProtocolError (INVALID), and nothing counted, when a count would take a series
        past MAX_POINTS: such a count is a lie, and a sum past 64 bits cannot be stored.
        This is the hub's hottest path (every listener report, every series in it).
        """
        if counts and max(counts.values()) > CHECKED_COUNT:
            self._check_room(counts)
        # Each series that got points: the scheduler sees whether it needs a job now.
        return self.series.count_many(counts, self.scheduler.consider, MAX_POINTS)

    def _check_room(self, counts: dict[str, int]) -> None:
        for name, count in counts.items():
            series = self.series.get(name)
            if series is not None and series.points_counted + count > MAX_POINTS:
                raise ProtocolError(
                    ErrorCode.INVALID, f"count of {name[:64]!r} beyond {MAX_POINTS} points"
                )
