"""The worker's control channel to the hub: handshake, heartbeats, liveness, reconnect.

A ppworker-style state machine on one DEALER socket. States: `handshaking` (HANDSHAKE sent,
waiting for HANDSHAKE_OK), `ready` (heartbeating) and `waiting` (socket closed until the
reconnect time; the delay doubles up to a maximum and resets on HANDSHAKE_OK). A fresh
socket per attempt drops whatever the old one still queued for a hub that is gone.

Each handshake agrees a session key (protocol/session.py): jobs arrive on this socket with
its MAC, and the worker's JOB_* messages carry one (`session_key`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import zmq

from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.errors import ProtocolError, TransportError
from protocol.jobs import JOB_TYPES
from protocol.session import new_nonce, session_key, verify
from protocol.transport import BadMessage, Channel, connect, make_socket
from protocol.types import MessageType

log = logging.getLogger(__name__)

HANDSHAKING, READY, WAITING = "handshaking", "ready", "waiting"


class HubLink:
    """The DEALER to the hub's control ROUTER and the session kept over it."""

    def __init__(
        self, ctx: zmq.Context, address: str, codec: Codec, poller: zmq.Poller,
        hello: Callable[[], dict[str, Any]], heartbeat_interval: float = 1.0,
        liveness: int = 3, reconnect_min: float = 0.5, reconnect_max: float = 30.0,
        clock: Callable[[], float] = time.monotonic, curve: CurveClient | None = None,
        on_job: Callable[[Message], None] | None = None,
        on_ready: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.ctx, self.address, self.codec, self.poller = ctx, address, codec, poller
        self.curve = curve
        self.hello = hello
        self.interval = heartbeat_interval
        self.liveness = liveness
        self.reconnect_min, self.reconnect_max = reconnect_min, reconnect_max
        self.clock = clock
        self.channel: Channel | None = None
        self.state = WAITING
        self.hub_id: str | None = None
        self._delay = reconnect_min
        self._reconnect_at = clock()
        self._expires_at = 0.0
        self._next_heartbeat = 0.0
        self.status: dict[str, Any] = {"busy": False, "job_id": None}
        self.on_job = on_job or (lambda msg: None)
        self.on_ready = on_ready or (lambda: None)
        self.on_lost = on_lost or (lambda: None)
        #: This process's id in every HANDSHAKE: lets it replace its own older session.
        self.instance = new_nonce()[:32]
        #: The current session's key (None until HANDSHAKE_OK, and after the session ends).
        self.session_key: bytes | None = None
        self._hello: dict[str, Any] = {}

    @property
    def socket(self) -> zmq.Socket | None:
        """The current DEALER socket (None while waiting to reconnect)."""
        return self.channel.socket if self.channel is not None else None

    @property
    def ready(self) -> bool:
        """True once the hub answered HANDSHAKE_OK and has not gone silent since."""
        return self.state == READY

    def start(self) -> None:
        """Connect at the next `due()`."""
        self._reconnect_at = self.clock()

    def _open(self) -> None:
        sock = make_socket(self.ctx, zmq.DEALER, self.codec.max_size, curve=self.curve)
        connect(sock, self.address)
        self.channel = Channel(sock, self.codec)
        self.poller.register(sock, zmq.POLLIN)
        self._handshake()

    def _close(self) -> None:
        if self.channel is not None:
            self.poller.unregister(self.channel.socket)
            self.channel.close()
            self.channel = None

    def _end_session(self) -> None:
        if self.session_key is not None:
            self.session_key = None
            self.on_lost()

    def _handshake(self) -> None:
        self.state = HANDSHAKING
        self._end_session()
        self._expires_at = self.clock() + self.interval * self.liveness
        self._hello = {**self.hello(), "nonce": new_nonce(), "instance": self.instance}
        self._send(Message(MessageType.HANDSHAKE, self._hello))

    def _wait(self, delay: float) -> None:
        self._close()
        self.state = WAITING
        self.hub_id = None
        self._end_session()
        self._reconnect_at = self.clock() + delay
        log.info("reconnecting to the hub in %.1f s", delay)

    def _backoff(self) -> None:
        delay = self._delay
        self._delay = min(self.reconnect_max, self._delay * 2)
        self._wait(delay)

    def _send(self, msg: Message) -> bool:
        if self.channel is None:
            return False
        try:
            self.channel.send(msg, flags=zmq.NOBLOCK)
            return True
        except (TransportError, ProtocolError) as exc:
            log.warning("cannot send %s to the hub: %s", msg.type.value, exc)
            return False

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
                self._backoff()
                return
            if incoming is None:
                return
            self._expires_at = self.clock() + self.interval * self.liveness
            self._handle(incoming.msg)

    def _handle(self, msg: Message) -> None:
        kind = msg.type
        if kind in JOB_TYPES:
            self._on_job(msg)
        elif kind is MessageType.HANDSHAKE_OK:
            if self.state != HANDSHAKING:
                log.warning("unexpected HANDSHAKE_OK (no handshake pending): ignored")
                return
            if "nonce" not in msg.body:
                log.error("HANDSHAKE_OK without a session nonce (an older hub?): no session "
                          "key, so no job could be proven; reconnecting later")
                self._backoff()
                return
            hello = self._hello
            self.session_key = session_key(hello.get("token", ""), hello["client_id"],
                                           hello["nonce"], msg.body["nonce"])
            self.hub_id = msg.body["hub_id"]
            self.interval = float(msg.body["heartbeat_interval"])
            self.liveness = int(msg.body["liveness"])
            self.state = READY
            self._delay = self.reconnect_min
            self._expires_at = self.clock() + self.interval * self.liveness
            self._next_heartbeat = self.clock()
            log.info("handshake with hub %s ok (heartbeat %.2f s x %d)", self.hub_id,
                     self.interval, self.liveness)
            self.on_ready()
        elif kind is MessageType.HANDSHAKE_FAIL:
            log.error("hub refused the handshake: %s: %s", msg.body["code"], msg.body["message"])
            self._backoff()
        elif kind is MessageType.UNKNOWN_CLIENT:
            log.info("hub does not know us (%s): handshaking again", msg.body.get("message", ""))
            self._handshake()
        elif kind is MessageType.SHUTDOWN:
            log.info("hub is going away (%s): reconnecting later", msg.body.get("reason", ""))
            self._delay = self.reconnect_min
            self._backoff()
        elif kind is MessageType.ERROR:
            log.warning("hub answered an error: %s: %s", msg.body["code"], msg.body["message"])
        elif kind is not MessageType.HEARTBEAT:
            log.warning("unexpected %s on the control channel", kind.value)

    def _on_job(self, msg: Message) -> None:
        # Only a job MACed under this session's key runs: it comes from the hub we handshook
        # with, for us, in this session.
        if self.state != READY or not verify(self.session_key, msg):
            log.warning("dropped a %s without a valid session MAC (job %.64r)",
                        msg.type.value, msg.body.get("job_id"))
            return
        self.on_job(msg)

    def due(self) -> float:
        """Do what is due (heartbeat, liveness, reconnect); return the next deadline."""
        now = self.clock()
        if self.state == WAITING:
            if now < self._reconnect_at:
                return self._reconnect_at
            self._open()
        elif now >= self._expires_at:
            if self.state == READY:
                log.warning("hub silent for %.1f s", self.interval * self.liveness)
            else:
                log.warning("no answer to HANDSHAKE from %s", self.address)
            self._backoff()
            return self._reconnect_at
        if self.state == READY and now >= self._next_heartbeat:
            self._send(Message(MessageType.HEARTBEAT, dict(self.status)))
            self._next_heartbeat = now + self.interval
        if self.state == READY:
            return min(self._next_heartbeat, self._expires_at)
        return self._expires_at

    def heartbeat_now(self) -> None:
        """Send a heartbeat at once (e.g. when busy changes) if the session is up."""
        if self.state == READY:
            self._send(Message(MessageType.HEARTBEAT, dict(self.status)))
            self._next_heartbeat = self.clock() + self.interval

    def goodbye(self, reason: str) -> None:
        """Say SHUTDOWN to the hub (when a session is up)."""
        if self.state == READY:
            self._send(Message(MessageType.SHUTDOWN, {"reason": reason}))

    def close(self, linger_ms: int = 0) -> None:
        """Close the socket; linger_ms bounds the flush of what is still queued."""
        if self.channel is not None:
            self.poller.unregister(self.channel.socket)
            self.channel.socket.close(linger=linger_ms)
            self.channel = None
        self.state = WAITING
        self.session_key = None
