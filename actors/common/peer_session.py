"""A peer's session with the hub, without sockets: the one state machine of every peer.

The listener (asyncio), the worker (a poll loop) and the client (blocking requests) each
talk to the hub's control ROUTER over a DEALER; what they say to start and keep a session
is the same and lives here. States: `waiting` (no socket until the reconnect time),
`handshaking` (HANDSHAKE sent, waiting for the welcome) and `ready` (heartbeating).

- The HANDSHAKE body: client_id, client_type, version, protocol, the token when there is
  one, what the peer adds (a worker: capacity, models) and, for a keyed session, a fresh
  nonce and the process's `instance` (the same across its reconnects).
- The welcome: HANDSHAKE_OK gives the hub's id, heartbeat_interval and liveness (adopted
  for this session) and, keyed, the hub's nonce: both sides then hold the session key
  (protocol/session.py). HANDSHAKE_FAIL, an ERROR to the HANDSHAKE, or a keyed session's
  HANDSHAKE_OK without a nonce end the attempt.
- Liveness: the hub counts as gone when nothing came from it for heartbeat_interval x
  liveness (in `handshaking`: for the handshake timeout); a HEARTBEAT goes out every
  heartbeat_interval, the first at once.
- Reconnects wait with one Backoff (actors/common/backoff.py), reset by a welcome and by
  the hub's SHUTDOWN (it is going away on purpose: come back soon).

The adapters (session_poll.py for poll loops, session_async.py for asyncio, and the
client's blocking ClientSession) own the socket and call these methods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from actors.common.backoff import Backoff
from protocol.envelope import Message
from protocol.session import new_nonce, session_key
from protocol.types import PROTOCOL_VERSION, MessageType

log = logging.getLogger(__name__)

HANDSHAKING, READY, WAITING = "handshaking", "ready", "waiting"


def hello_body(client_id: str, client_type: str, version: str, token: str | None = None,
               **extra: Any) -> dict[str, Any]:
    """The HANDSHAKE body every peer sends (the token only when there is one)."""
    body: dict[str, Any] = {"client_id": client_id, "client_type": client_type,
                            "version": version, "protocol": PROTOCOL_VERSION, **extra}
    if token:
        body["token"] = token
    return body


@dataclass(frozen=True)
class Welcome:
    """What HANDSHAKE_OK said: the hub, its liveness rules and (keyed) its nonce."""

    hub_id: str
    heartbeat_interval: float
    liveness: int
    nonce: str | None
    body: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Welcome:
        """Read a HANDSHAKE_OK body (its schema is checked by the codec)."""
        return cls(body["hub_id"], float(body["heartbeat_interval"]), int(body["liveness"]),
                   body.get("nonce"), body)


class Signal(Enum):
    """What a message from the hub means to the session (None: a message for the peer)."""

    HEARD = "heard"            # a heartbeat, or an answer that needs nothing more
    READY = "ready"            # the welcome: the session is up
    REFUSED = "refused"        # the handshake failed: wait, then try again
    FORGOTTEN = "forgotten"    # UNKNOWN_CLIENT: the hub does not know us; handshake again
    LEAVING = "leaving"        # SHUTDOWN: the hub is going away


class PeerSession:
    """Handshake, welcome, liveness deadlines and reconnect backoff of one peer."""

    def __init__(
        self,
        hello: Callable[[], dict[str, Any]],
        *,
        keyed: bool = False,
        heartbeat_interval: float = 1.0,
        liveness: int = 3,
        backoff: Backoff | None = None,
        handshake_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hello = hello  # asked at each handshake (a token file may have changed)
        self.keyed = keyed
        self.interval, self.liveness = heartbeat_interval, liveness
        self.backoff = backoff or Backoff(0.5, 30.0)
        self.handshake_timeout = handshake_timeout
        self.clock = clock
        self.state = WAITING
        self.welcome: Welcome | None = None
        #: This process's id in a keyed HANDSHAKE: lets it replace its own older session.
        self.instance = new_nonce()[:32] if keyed else None
        #: The session key of a keyed session (None until the welcome and after the end).
        self.session_key: bytes | None = None
        self.reconnect_at = clock()
        self.expires_at = 0.0
        self.next_heartbeat = 0.0
        self.refusal: dict[str, Any] = {}
        self._hello: Message | None = None

    @property
    def ready(self) -> bool:
        """True once the hub welcomed us and has not gone silent since."""
        return self.state == READY

    @property
    def silence(self) -> float:
        """Seconds without a word from the hub after which it counts as gone."""
        return self.interval * self.liveness

    def handshake(self) -> Message:
        """Begin a handshake (any session before it is over); return the HANDSHAKE to send."""
        self.state = HANDSHAKING
        self.session_key = None
        timeout = self.handshake_timeout if self.handshake_timeout is not None else self.silence
        self.expires_at = self.clock() + timeout
        body = self.hello()
        if self.keyed:
            body = {**body, "nonce": new_nonce(), "instance": self.instance}
        self._hello = Message(MessageType.HANDSHAKE, body)
        return self._hello

    def on_message(self, msg: Message) -> Signal | None:
        """Note that the hub spoke; return what msg means to the session, None if nothing."""
        self.heard()
        kind = msg.type
        if kind in (MessageType.HANDSHAKE_OK, MessageType.HANDSHAKE_FAIL, MessageType.ERROR):
            if self._answers_hello(msg):
                return self._welcome(msg) if kind is MessageType.HANDSHAKE_OK else self._refused(
                    msg.body)
            if kind is MessageType.HANDSHAKE_OK:
                log.warning("unexpected HANDSHAKE_OK (no handshake pending): ignored")
                return Signal.HEARD
            return None if kind is MessageType.ERROR else Signal.HEARD
        if kind is MessageType.UNKNOWN_CLIENT:
            return Signal.FORGOTTEN
        if kind is MessageType.SHUTDOWN:
            self.backoff.reset()
            return Signal.LEAVING
        return Signal.HEARD if kind is MessageType.HEARTBEAT else None

    def _answers_hello(self, msg: Message) -> bool:
        # An ERROR without reply_to: the hub could not read our HANDSHAKE's header.
        return (self.state == HANDSHAKING and self._hello is not None
                and msg.reply_to in (self._hello.id, None))

    def _welcome(self, msg: Message) -> Signal:
        welcome = Welcome.of(msg.body)
        if self.keyed:
            if welcome.nonce is None:
                log.error("HANDSHAKE_OK without a session nonce (an older hub?): no session "
                          "key, so no job could be proven")
                return self._refused({"code": "no_nonce", "message": "no nonce in the welcome"})
            assert self._hello is not None
            hello = self._hello.body
            self.session_key = session_key(hello.get("token", ""), hello["client_id"],
                                           hello["nonce"], welcome.nonce)
        self.welcome, self.state = welcome, READY
        self.interval, self.liveness = welcome.heartbeat_interval, welcome.liveness
        self.backoff.reset()
        self.expires_at = self.clock() + self.silence
        self.next_heartbeat = self.clock()
        log.info("handshake with hub %s ok (heartbeat %.2f s x %d)", welcome.hub_id,
                 self.interval, self.liveness)
        return Signal.READY

    def _refused(self, body: dict[str, Any]) -> Signal:
        self.refusal = body
        log.error("hub refused the handshake: %s: %s", body.get("code"), body.get("message"))
        return Signal.REFUSED

    def heard(self) -> None:
        """The hub spoke: it is alive for another silence."""
        if self.state == READY:
            self.expires_at = self.clock() + self.silence

    def expired(self) -> bool:
        """True when the hub said nothing in time (to the HANDSHAKE, or in session)."""
        return self.state != WAITING and self.clock() >= self.expires_at

    def heartbeat_due(self) -> bool:
        """True when a session is up and its next HEARTBEAT is due."""
        return self.state == READY and self.clock() >= self.next_heartbeat

    def heartbeat(self, body: dict[str, Any] | None = None) -> Message:
        """The HEARTBEAT to send now; the next is due an interval later."""
        self.next_heartbeat = self.clock() + self.interval
        return Message(MessageType.HEARTBEAT, body or {})

    def end(self) -> float:
        """The session (or attempt) is over: return the delay before the next handshake."""
        delay = self.backoff.next()
        self.state, self.session_key, self.welcome = WAITING, None, None
        self.reconnect_at = self.clock() + delay
        return delay

    def deadline(self) -> float:
        """When the session next needs attention (reconnect, heartbeat or liveness)."""
        if self.state == WAITING:
            return self.reconnect_at
        if self.state == READY:
            return min(self.next_heartbeat, self.expires_at)
        return self.expires_at
