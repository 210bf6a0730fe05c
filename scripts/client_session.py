"""A ZMQ client session with the hub's control socket: handshake, requests, heartbeats.

One DEALER socket, one thread. Requests are matched to replies by `reply_to` and
bounded by a deadline; SERIES_UPDATE pushes that arrive meanwhile are kept for
`updates()`. A hub that forgot us (UNKNOWN_CLIENT) gets a new handshake, and the
request is sent once more.
"""

from __future__ import annotations

import collections
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import zmq

from actors.common.peer_session import PeerSession, Signal, hello_body
from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.errors import ProtocolError, TransportError
from protocol.transport import BadMessage, Channel, connect, make_socket
from protocol.types import ClientType, MessageType

log = logging.getLogger("enodo.client")

Clock = Callable[[], float]


class SessionError(Exception):
    """A request or handshake that failed; `code` is a protocol error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class HubUnreachable(SessionError):
    """No answer from the hub within the timeout."""

    def __init__(self, address: str, timeout: float) -> None:
        super().__init__("unavailable", f"hub not reachable at {address} within {timeout:g} s")


class HandshakeRefused(SessionError):
    """The hub answered HANDSHAKE_FAIL (e.g. `unauthorized` for a wrong token)."""


class Forgotten(SessionError):
    """The hub answered UNKNOWN_CLIENT: it does not know us (any more); handshake again."""


class ClientSession:
    """A client's conversation with the hub over one DEALER socket."""

    def __init__(
        self,
        address: str,
        client_id: str,
        *,
        version: str,
        token: str | None = None,
        signing_key: bytes | None = None,
        timeout: float = 5.0,
        client_type: ClientType = ClientType.CLIENT,
        clock: Clock = time.monotonic,
        curve: CurveClient | None = None,
    ) -> None:
        self.address = address
        self.client_id = client_id
        self.version = version
        self.token = token
        self.timeout = timeout
        self.client_type = client_type
        self.clock = clock
        self.codec = Codec(client_id, signing_key)
        self.curve = curve
        self.welcome: dict[str, Any] = {}
        # The session's rules (hello body, welcome, liveness): the same as every peer's.
        self.session = PeerSession(self._hello, handshake_timeout=timeout, clock=clock)
        self.hub_said_shutdown = False
        self._pending: collections.deque[Message] = collections.deque()
        self._ctx = zmq.Context()
        self._channel: Channel | None = None

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between heartbeats, as the hub said in HANDSHAKE_OK."""
        return self.session.interval

    @property
    def liveness(self) -> int:
        """Missed heartbeat intervals after which the hub counts as gone."""
        return self.session.liveness

    def _hello(self) -> dict[str, Any]:
        return hello_body(self.client_id, self.client_type.value, self.version, self.token)

    def connect(self) -> dict[str, Any]:
        """Open a fresh socket and handshake; return the HANDSHAKE_OK body."""
        self._reset()
        sock = make_socket(self._ctx, zmq.DEALER, self.codec.max_size, curve=self.curve)
        sock.setsockopt(zmq.SNDTIMEO, max(1, int(self.timeout * 1000)))
        self._channel = Channel(sock, self.codec)
        connect(sock, self.address)
        return self.handshake()

    def handshake(self) -> dict[str, Any]:
        """Say HANDSHAKE on the open socket; return HANDSHAKE_OK's body or raise."""
        msg = self.session.handshake()
        answers = (MessageType.HANDSHAKE_OK, MessageType.HANDSHAKE_FAIL, MessageType.ERROR)
        answer = self._exchange(msg, answers)
        if self.session.on_message(answer) is not Signal.READY:
            raise HandshakeRefused(answer.body["code"], answer.body["message"])
        self.welcome = answer.body
        self.hub_said_shutdown = False
        return self.welcome

    def request(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Run an API action; return its data or raise SessionError."""
        body: dict[str, Any] = {"action": action}
        if params is not None:
            body["params"] = params
        return self.call(Message(MessageType.API_REQUEST, body))

    def subscribe(self, series: list[str] | None = None) -> Any:
        """Ask for SERIES_UPDATE pushes of the named series (None: all)."""
        return self.call(Message(MessageType.SUBSCRIBE, {"series": series} if series else {}))

    def call(self, msg: Message) -> Any:
        """Send a request; return RESPONSE_OK's data, re-handshaking once when forgotten."""
        replies = (MessageType.RESPONSE_OK, MessageType.ERROR, MessageType.UNKNOWN_CLIENT)
        answer = self._exchange(msg, replies)
        if answer.type is MessageType.UNKNOWN_CLIENT:
            log.info("hub forgot this client; handshaking again")
            self.handshake()
            answer = self._exchange(Message(msg.type, msg.body), replies)
        if answer.type is MessageType.RESPONSE_OK:
            return answer.body["data"]
        if answer.type is MessageType.ERROR:
            raise SessionError(answer.body["code"], answer.body["message"])
        raise SessionError("unknown_client", "hub does not know this client after a handshake")

    def heartbeat(self) -> None:
        """Tell the hub we are alive."""
        self._send(self.session.heartbeat())

    def updates(self, wait: float) -> list[Message]:
        """Return SERIES_UPDATE pushes, waiting up to `wait` s for the first one.

        Raises Forgotten when the hub says it does not know us.
        """
        deadline = self.clock() + wait
        while not self._pending:
            msg = self._receive(deadline)
            if msg is None:
                break
            if msg.type is MessageType.UNKNOWN_CLIENT:
                raise Forgotten("unknown_client", msg.body.get("message", "handshake again"))
            self._note(msg)
        out = list(self._pending)
        self._pending.clear()
        return out

    def hub_silent(self) -> bool:
        """True when nothing came from the hub for liveness x heartbeat_interval."""
        return self.session.expired()

    def close(self, say_goodbye: bool = True) -> None:
        """Send SHUTDOWN (unless told not to), close the socket and the context."""
        if say_goodbye and self._channel is not None:
            try:
                self._send(Message(MessageType.SHUTDOWN, {"reason": "client exiting"}))
            except SessionError:
                pass  # leaving anyway; the hub will expire us
        self._reset()
        self._ctx.term()

    def _exchange(self, msg: Message, answers: tuple[MessageType, ...]) -> Message:
        self._send(msg)
        deadline = self.clock() + self.timeout
        while True:
            try:
                reply = self._receive(deadline, strict=True)
            except BadMessage as exc:
                raise SessionError(
                    exc.error.code.value, f"unreadable message from the hub: {exc.error.message}"
                ) from None
            if reply is None:
                raise HubUnreachable(self.address, self.timeout)
            if reply.type in answers and reply.reply_to == msg.id:
                return reply
            if reply.type is MessageType.ERROR and reply.reply_to is None:
                return reply  # the hub could not read our message's header (e.g. signature)
            self._note(reply)

    def _note(self, msg: Message) -> None:
        if msg.type is MessageType.SERIES_UPDATE:
            self._pending.append(msg)
        elif msg.type is MessageType.SHUTDOWN:
            log.warning("hub is going away: %s", msg.body.get("reason", "no reason given"))
            self.hub_said_shutdown = True
        elif msg.type is not MessageType.HEARTBEAT:
            log.debug("ignored %s from the hub", msg.type.value)

    def _send(self, msg: Message) -> None:
        if self._channel is None:
            raise SessionError("unavailable", "not connected")
        try:
            self._channel.send(msg)
        except ProtocolError as exc:  # our own message breaks its schema or the size limit
            raise SessionError(exc.code.value, exc.message) from None
        except TransportError:
            raise HubUnreachable(self.address, self.timeout) from None

    def _receive(self, deadline: float, strict: bool = False) -> Message | None:
        """Return the next message from the hub, or None at the deadline.

        An unreadable message raises BadMessage when strict, else is logged and skipped.
        """
        assert self._channel is not None
        while True:
            wait_ms = math.ceil(max(0.0, deadline - self.clock()) * 1000)
            if not self._channel.socket.poll(wait_ms, zmq.POLLIN):
                if self.clock() >= deadline:
                    return None
                continue
            try:
                incoming = self._channel.recv(zmq.NOBLOCK)
            except BadMessage as exc:
                if strict:
                    raise
                log.warning("unreadable message from the hub: %s", exc.error.message)
                continue
            except TransportError:
                return None
            if incoming is not None:
                self.session.heard()
                return incoming.msg

    def _reset(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._channel = None
