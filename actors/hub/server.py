"""The hub's poll loop: sockets in, handlers, one commit per turn, replies out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import zmq

from actors.hub.actions import run_action
from actors.hub.gate import PreHandshakeGate
from actors.hub.handlers import handle_control
from actors.hub.outbox import OnLost
from actors.hub.stall import StallGuard
from actors.hub.state import HubState
from protocol.curve import CurveServer
from protocol.envelope import Codec, Message, error, ok
from protocol.errors import ErrorCode, ProtocolError, TransportError
from protocol.transport import BadMessage, Channel, Incoming, bind, make_socket, poll
from protocol.types import MessageType

log = logging.getLogger(__name__)

#: Messages taken from one socket per turn before the turn's commit; bounds reply latency.
BATCH = 512
#: Messages ZeroMQ queues per connection on the inbound sockets (its default: 1000); the
#: loop drains them every turn, so more only buys memory for whoever floods.
RCVHWM = 100
#: Seconds between trims of the event log (to event_log_size).
TRIM_INTERVAL = 10.0
#: Seconds between folds of a slice of the count journal into series runtimes: often, so
#: that each slice is small (a tenth of a second's share keeps the turn that writes it
#: short with 100,000 series counted; see actors/hub/series.py FOLD_SPREAD).
FOLD_INTERVAL = 0.1


class HubServer:
    """Owns the hub's sockets and runs its loop until `stop()`."""

    def __init__(
        self,
        state: HubState,
        codec: Codec,
        addresses: dict[str, str],
        ctx: zmq.Context | None = None,
        clock: Callable[[], float] = time.monotonic,
        curve: CurveServer | None = None,
        control_max_size: int | None = None,
    ) -> None:
        self.state = state
        self.codec = codec
        self.clock = clock
        self.ctx = ctx or zmq.Context()
        self.gate = PreHandshakeGate(state.peers.get, clock)

        def channel(kind: int, max_size: int = codec.max_size) -> Channel:
            return Channel(make_socket(self.ctx, kind, max_size, curve=curve, rcvhwm=RCVHWM),
                           codec)

        # Anyone who can reach the control port may send before any handshake, and ZeroMQ
        # holds a message of the size its header declares while it arrives: the control
        # socket's own, smaller limit bounds what each such connection costs.
        self.control = channel(zmq.ROUTER, min(control_max_size or codec.max_size, codec.max_size))
        self.control.admit = self.gate.admit
        # A peer's address is read once, from the messages of an identity not yet known (its
        # handshake); the console's clients page shows it.
        self.control.note_address = lambda identity: state.peers.get(identity) is None
        self.api = channel(zmq.ROUTER)
        # Jobs go over the control socket, each to one handshaken worker (no jobs socket: a
        # PUSH socket hands jobs to any PULL that connects, authenticated or not).
        self.results = channel(zmq.PULL)
        self.endpoints = {
            "control": bind(self.control.socket, addresses["control"]),
            "api": bind(self.api.socket, addresses["api"]),
            "results": bind(self.results.socket, addresses["results"]),
        }
        self.poller = zmq.Poller()
        for channel in (self.control, self.api, self.results):
            self.poller.register(channel.socket, zmq.POLLIN)
        self.extra: dict[zmq.Socket, Callable[[], None]] = {}
        self.timers: list[Callable[[float], float]] = [
            self._heartbeats, self._expire_peers, self._trim_events, self._fold_counts,
            self._jobs_and_counts,
        ]
        self._next_trim = 0.0
        self._next_fold = 0.0
        self._next_heartbeat = 0.0
        self._running = False
        self.stall = StallGuard(self)

    def add_reader(self, sock: zmq.Socket, callback: Callable[[], None]) -> None:
        """Poll another socket (e.g. the SiriDB link's wake-up) in the same loop."""
        self.poller.register(sock, zmq.POLLIN)
        self.extra[sock] = callback

    def stop(self) -> None:
        """Ask the loop to end after the current turn (safe from a signal handler)."""
        self._running = False

    def run(self) -> None:
        """Serve until stop(); then say SHUTDOWN to every peer and close the sockets."""
        self._running = True
        next_due = self.clock()
        while self._running:
            timeout = max(0.0, min(next_due - self.clock(), 0.5))
            if self.stall.held:  # messages held while a commit waited go first, now
                timeout = 0.0
            ready = poll(self.poller, timeout)
            started, cpu = time.perf_counter(), time.thread_time()
            api_replies = self._read(ready)
            next_due = self._due()
            self._commit_and_send(api_replies)
            self.state.metrics.loop_turn.observe(time.perf_counter() - started)
            self.state.metrics.loop_turn_cpu.observe(time.thread_time() - cpu)
        self._shutdown()

    # one turn -------------------------------------------------------------
    def _read(self, ready: dict) -> list[tuple[list[bytes], Message]]:
        api_replies: list[tuple[list[bytes], Message]] = []
        for socket_name, incoming in self.stall.take():  # held while a commit waited
            if socket_name == "control":
                self._on_control(incoming)
            else:
                api_replies.append(self._on_api(incoming))
        if self.control.socket in ready:
            self._drain(self.control, self._on_control)
        if self.api.socket in ready:
            self._drain(self.api, lambda inc: api_replies.append(self._on_api(inc)),
                        lambda bad: api_replies.append(self._error_reply(bad)))
        if self.results.socket in ready:
            self._drain(self.results,
                        lambda inc: self._guard(self.state.scheduler.on_result, inc.msg))
        for sock, callback in self.extra.items():
            if sock in ready:
                callback()
        return api_replies

    def _drain(
        self,
        channel: Channel,
        on_message: Callable[[Incoming], Any],
        on_bad: Callable[[BadMessage], Any] | None = None,
    ) -> None:
        for _ in range(BATCH):
            try:
                incoming = channel.recv(zmq.NOBLOCK)
            except BadMessage as bad:
                log.warning("bad message from %r: %s: %s", bad.route[:1], bad.error.code.value,
                            bad.error.message)
                if on_bad is not None:
                    on_bad(bad)
                elif channel.routed:
                    self._send_control(bad.route[0], error(bad.error.reply_to, bad.error.code,
                                                           bad.error.message))
                continue
            if incoming is None:
                return
            on_message(incoming)

    def _on_control(self, incoming: Incoming) -> None:
        msg = incoming.msg
        try:
            reply = handle_control(self.state, incoming.peer, msg)
        except ProtocolError as exc:
            reply = error(msg.id, exc.code, exc.message)
        except Exception:  # noqa: BLE001 - one bad message never stops the loop
            log.exception("handler of %s failed", msg.type.value)
            reply = error(msg.id, ErrorCode.INTERNAL, "internal error; see the hub's log")
        if reply is not None:
            self.state.outbox.send(incoming.peer, reply)
        if incoming.address is not None and msg.type is MessageType.HANDSHAKE:
            peer = self.state.peers.get(incoming.peer)
            if peer is not None:
                peer.address = incoming.address

    def _on_api(self, incoming: Incoming) -> tuple[list[bytes], Message]:
        msg = incoming.msg
        if msg.type is not MessageType.API_REQUEST:
            return incoming.route, error(msg.id, ErrorCode.INVALID,
                                         f"the api socket takes API_REQUEST, not {msg.type.value}")
        # No session on this socket: every request carries the hub's token.
        if not self.state.check_token(msg.body.get("token")):
            log.warning("api request from %r refused: token missing or wrong", msg.sender[:128])
            return incoming.route, error(msg.id, ErrorCode.UNAUTHORIZED, "token missing or wrong")
        try:
            data = run_action(self.state, msg.body["action"], msg.body.get("params", {}))
            return incoming.route, ok(msg, data)
        except ProtocolError as exc:
            return incoming.route, error(msg.id, exc.code, exc.message)
        except Exception:  # noqa: BLE001 - one bad request never stops the loop
            log.exception("api action %r failed", msg.body.get("action"))
            return incoming.route, error(msg.id, ErrorCode.INTERNAL, "internal error")

    @staticmethod
    def _error_reply(bad: BadMessage) -> tuple[list[bytes], Message]:
        return bad.route, error(bad.error.reply_to, bad.error.code, bad.error.message)

    def _send_api_error(self, bad: BadMessage) -> None:
        route, msg = self._error_reply(bad)
        try:
            self.api.send(msg, route, zmq.NOBLOCK)
        except (TransportError, ProtocolError) as exc:
            log.warning("api reply lost: %s", exc)

    def _guard(self, fn: Callable[[Message], None], msg: Message) -> None:
        try:
            fn(msg)
        except Exception:  # noqa: BLE001 - one bad result never stops the loop
            log.exception("handling %s failed", msg.type.value)

    def _commit_and_send(self, api_replies: list[tuple[list[bytes], Message]]) -> None:
        self.state.flush()
        # The commit runs on the store's writer thread; if the disk or a lock holds it,
        # the stall guard keeps peers alive until it is done. Replies wait for it.
        pending = self.state.store.commit_in_background()
        self.stall.wait(pending)
        pending.result()
        for item in self.state.outbox.take():
            self._send_control(*item)
        for route, msg in api_replies:
            try:
                self.api.send(msg, route, zmq.NOBLOCK)
            except (TransportError, ProtocolError) as exc:
                log.warning("api reply lost: %s", exc)

    def _send_control(self, identity: bytes, msg: Message, session_key: bytes | None = None,
                      on_lost: OnLost | None = None) -> None:
        """Send msg to one peer; on_lost (a job's) hears of a failure instead of the log."""
        try:
            self.control.send(msg, [identity], zmq.NOBLOCK, session_key=session_key)
        except TransportError as exc:
            if on_lost is not None:
                on_lost(exc)
                return
            peer = self.state.peers.get(identity)
            log.warning("cannot send %s to %s: %s", msg.type.value,
                        peer.client_id if peer else identity.hex(), exc)
        except ProtocolError as exc:
            log.error("refused to send an invalid %s: %s", msg.type.value, exc.message)
            if on_lost is not None:
                on_lost(exc)

    # timers ---------------------------------------------------------------
    def _due(self) -> float:
        now = self.clock()
        return min(timer(now) for timer in self.timers)

    def _heartbeats(self, now: float) -> float:
        if now >= self._next_heartbeat:
            beat = Message(MessageType.HEARTBEAT, {})
            for peer in self.state.peers:
                self.state.outbox.send(peer.identity, beat)
            self._next_heartbeat = now + self.state.heartbeat_interval
        return self._next_heartbeat

    def _expire_peers(self, now: float) -> float:
        for peer in self.state.peers.expired(now):
            self.state.drop_peer(peer, "silent for too long")
        upcoming = [p.expires_at for p in self.state.peers]
        return min(upcoming, default=now + self.state.heartbeat_interval)

    def _trim_events(self, now: float) -> float:
        if now >= self._next_trim:
            self.state.store.trim_events(self.state.settings["event_log_size"])
            self._next_trim = now + TRIM_INTERVAL
        return self._next_trim

    def _fold_counts(self, now: float) -> float:
        if now >= self._next_fold:
            self.state.series.fold_some()
            self._next_fold = now + FOLD_INTERVAL
        return self._next_fold

    def _jobs_and_counts(self, now: float) -> float:
        """Queue jobs for idle workers, end leases, ask SiriDB for the counts due."""
        scheduler = self.state.scheduler
        scheduler.dispatch(now)
        return min(scheduler.expire_leases(now), self.state.reconciler.tick(now))

    def _shutdown(self) -> None:
        bye = Message(MessageType.SHUTDOWN, {"reason": "hub stopping"})
        for peer in self.state.peers:
            self._send_control(peer.identity, bye)
        self.state.flush()
        self.state.series.fold()
        self.state.store.commit()
        for channel in (self.control, self.api, self.results):
            channel.close()
        for sock in self.extra:
            sock.close(linger=0)
