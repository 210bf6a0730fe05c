"""The peer session in a zmq.Poller loop: one DEALER to the hub's control ROUTER.

The loop registers nothing itself: the session adds its socket to the poller, the loop
calls `on_readable()` when that socket is readable and `due()` each turn (it returns the
next deadline). Messages that are not the session's go to `on_message`. A fresh socket
per attempt drops whatever the old one still queued for a hub that is gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import zmq

from actors.common.backoff import Backoff
from actors.common.peer_session import HANDSHAKING, READY, WAITING, PeerSession, Signal
from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.errors import ProtocolError, TransportError
from protocol.session import verify
from protocol.transport import BadMessage, Channel, connect, make_socket
from protocol.types import MessageType

log = logging.getLogger(__name__)

#: Proven-type messages kept while a handshake is pending (a worker's credit is far less).
MAX_EARLY = 16


class PollSession:
    """A PeerSession over a DEALER watched by the caller's zmq.Poller."""

    def __init__(
        self, ctx: zmq.Context, address: str, codec: Codec, poller: zmq.Poller,
        hello: Callable[[], dict[str, Any]], *, keyed: bool = False,
        proven: frozenset[MessageType] = frozenset(),
        heartbeat_interval: float = 1.0, liveness: int = 3, reconnect_min: float = 0.5,
        reconnect_max: float = 30.0, clock: Callable[[], float] = time.monotonic,
        curve: CurveClient | None = None,
        on_message: Callable[[Message], None] | None = None,
        on_ready: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.ctx, self.address, self.codec, self.poller = ctx, address, codec, poller
        self.curve = curve
        self.clock = clock
        self.session = PeerSession(
            hello, keyed=keyed, heartbeat_interval=heartbeat_interval, liveness=liveness,
            backoff=Backoff(reconnect_min, reconnect_max), clock=clock)
        self.channel: Channel | None = None
        #: Message types that reach on_message only with a MAC under this session's key
        #: (a worker's jobs: from the hub it handshook with, for it, in this session).
        self.proven = proven
        # Proven-type messages that came before the welcome that gives their key: a hub
        # may send a job in the turn it admits us, ahead of its HANDSHAKE_OK.
        self._early: list[Message] = []
        #: The HEARTBEAT body (a worker's: what it runs).
        self.status: dict[str, Any] = {}
        self.on_message = on_message or (lambda msg: None)
        self.on_ready = on_ready or (lambda: None)
        self.on_lost = on_lost or (lambda: None)  # a session that was up is over

    @property
    def socket(self) -> zmq.Socket | None:
        """The current DEALER socket (None while waiting to reconnect)."""
        return self.channel.socket if self.channel is not None else None

    @property
    def state(self) -> str:
        """waiting, handshaking or ready (peer_session.py)."""
        return self.session.state

    @property
    def ready(self) -> bool:
        """True once the hub welcomed us and has not gone silent since."""
        return self.session.ready

    @property
    def session_key(self) -> bytes | None:
        """The current session's key (keyed sessions; None outside a session)."""
        return self.session.session_key

    def start(self) -> None:
        """Connect at the next `due()`."""
        self.session.reconnect_at = self.clock()

    def due(self) -> float:
        """Do what is due (reconnect, liveness, heartbeat); return the next deadline."""
        session = self.session
        if session.state == WAITING:
            if self.clock() < session.reconnect_at:
                return session.reconnect_at
            self._open()
        elif session.expired():
            if session.ready:
                log.warning("hub silent for %.1f s", session.silence)
            else:
                log.warning("no answer to HANDSHAKE from %s", self.address)
            self._wait()
            return session.reconnect_at
        if session.heartbeat_due():
            self._send(session.heartbeat(dict(self.status)))
        return session.deadline()

    def on_readable(self) -> None:
        """Handle everything the hub sent."""
        while self.channel is not None:
            try:
                incoming = self.channel.recv(zmq.NOBLOCK)
            except BadMessage as bad:
                log.warning("bad message from the hub: %s: %s", bad.error.code.value,
                            bad.error.message)
                continue
            except TransportError as exc:
                log.warning("control socket failed: %s", exc)
                self._wait()
                return
            if incoming is None:
                return
            self._handle(incoming.msg)

    def _handle(self, msg: Message) -> None:
        signal = self.session.on_message(msg)
        if signal is None and msg.type in self.proven:
            if self.session.state == HANDSHAKING and len(self._early) < MAX_EARLY:
                self._early.append(msg)  # proven once the welcome gives the key
            else:
                self._prove(msg)
        elif signal is None:
            self.on_message(msg)
        elif signal is Signal.READY:
            self.on_ready()
            early, self._early = self._early, []
            for held in early:
                self._prove(held)
        elif signal is Signal.REFUSED:
            self._wait()
        elif signal is Signal.FORGOTTEN:
            log.info("hub does not know us (%s): handshaking again", msg.body.get("message", ""))
            self._handshake()
        elif signal is Signal.LEAVING:
            log.info("hub is going away (%s): reconnecting later", msg.body.get("reason", ""))
            self._wait()

    def _prove(self, msg: Message) -> None:
        if self.session.ready and verify(self.session.session_key, msg):
            self.on_message(msg)
        else:
            log.warning("dropped a %s without a valid session MAC (job %.64r)",
                        msg.type.value, msg.body.get("job_id"))

    def heartbeat_now(self) -> None:
        """Send a heartbeat at once (e.g. when the status changes) if the session is up."""
        if self.session.ready:
            self._send(self.session.heartbeat(dict(self.status)))

    def send(self, msg: Message) -> bool:
        """Send msg on the session's socket if there is one; False if it could not go."""
        return self._send(msg)

    def goodbye(self, reason: str) -> None:
        """Say SHUTDOWN to the hub (when a session is up)."""
        if self.session.state == READY:
            self._send(Message(MessageType.SHUTDOWN, {"reason": reason}))

    def close(self, linger_ms: int = 0) -> None:
        """Close the socket; linger_ms bounds the flush of what is still queued."""
        if self.channel is not None:
            self.poller.unregister(self.channel.socket)
            self.channel.socket.close(linger=linger_ms)
            self.channel = None
        self._lost(lambda: self.session.end())

    # ------------------------------------------------------------------------
    def _open(self) -> None:
        sock = make_socket(self.ctx, zmq.DEALER, self.codec.max_size, curve=self.curve)
        connect(sock, self.address)
        self.channel = Channel(sock, self.codec)
        self.poller.register(sock, zmq.POLLIN)
        self._handshake()

    def _handshake(self) -> None:
        self._early.clear()
        self._send(self._lost(self.session.handshake))

    def _wait(self) -> None:
        if self.channel is not None:
            self.poller.unregister(self.channel.socket)
            self.channel.close()
            self.channel = None
        delay = self._lost(self.session.end)
        log.info("reconnecting to the hub in %.1f s", delay)

    def _lost(self, step: Callable[[], Any]) -> Any:
        """Run a step that ends any session; tell on_lost if one was up."""
        was_up = self.session.ready
        out = step()
        if was_up:
            self.on_lost()
        return out

    def _send(self, msg: Message) -> bool:
        if self.channel is None:
            return False
        try:
            self.channel.send(msg, flags=zmq.NOBLOCK)
            return True
        except (TransportError, ProtocolError) as exc:
            log.warning("cannot send %s to the hub: %s", msg.type.value, exc)
            return False
