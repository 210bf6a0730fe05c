"""The API's link to the hub: one REQ socket per process, reset when the hub is silent.

This is the zguide's lazy-pirate client without retries (an action such as
add_series is not idempotent): a request that gets no reply within `timeout`
raises HubUnavailable, the socket is closed with linger 0, and the next request
opens a fresh one, so the API recovers by itself once the hub is back.

Under gunicorn's gevent worker (the default) the socket comes from `zmq.green`, so a
request waiting for the hub lets the process serve other connections; the greenlets of
one process take turns on its one REQ socket, and the time spent waiting for that turn
counts against `timeout`.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import zmq

from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.errors import ErrorCode, ProtocolError, TransportError
from protocol.transport import BadMessage, Channel, connect, make_socket
from protocol.types import MessageType

log = logging.getLogger("enodo.api.hub_client")

DEFAULT_HUB_ADDRESS = "tcp://127.0.0.1:5563"
DEFAULT_TIMEOUT = 5.0

#: Hub error codes that mean the API and the hub disagree about the wire (or the API's
#: hub token is wrong), which no REST user can cause or fix: they reach the user as
#: `internal`.
LINK_ERRORS = frozenset({
    ErrorCode.MALFORMED, ErrorCode.BAD_VERSION, ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_SIGNATURE,
    ErrorCode.UNAUTHORIZED,
})


class HubError(Exception):
    """The hub answered with an error (or could not be asked); `code` is a protocol code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = message


class HubUnavailable(HubError):
    """The hub did not answer in time (or the socket failed)."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE.value, message)


class HubClient:
    """Sends API_REQUEST actions to the hub's api socket and returns their data."""

    def __init__(
        self,
        address: str = DEFAULT_HUB_ADDRESS,
        timeout: float = DEFAULT_TIMEOUT,
        signing_key: bytes | None = None,
        sender: str | None = None,
        max_size: int | None = None,
        token: str | Callable[[], str] | None = None,
        curve: CurveClient | None = None,
        context_factory: Callable[[], zmq.Context] | None = None,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._key = signing_key or None
        self._token = token
        self._curve = curve
        self._sender = sender
        self._max_size = max_size
        self._lock = threading.Lock()
        self._context_factory = context_factory or default_context
        self._pid: int | None = None
        self._ctx: zmq.Context | None = None
        self._channel: Channel | None = None

    def request(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Run one action on the hub; return its data or raise HubError / HubUnavailable."""
        body: dict[str, Any] = {"action": action}
        if params is not None:
            body["params"] = params
        token = self._token() if callable(self._token) else self._token
        if token:
            body["token"] = token
        msg = Message(MessageType.API_REQUEST, body)
        deadline = time.monotonic() + self.timeout
        # Under gevent many requests of this process wait here: the wait is part of the timeout.
        if not self._lock.acquire(timeout=self.timeout):
            raise HubUnavailable(
                f"no turn on the link to the hub at {self.address} within {self.timeout:g} s"
            )
        try:
            channel = self._get_channel()
            # Poll then send without blocking: SNDTIMEO has no effect on zmq.green sockets.
            if not channel.socket.poll(_ms_left(deadline), zmq.POLLOUT):
                self._reset()
                raise HubUnavailable(f"cannot send to the hub at {self.address}: not ready")
            try:
                channel.send(msg, flags=zmq.NOBLOCK)
            except ProtocolError as exc:  # refused by our own codec: schema or size
                raise HubError(exc.code.value, exc.message) from None
            except TransportError as exc:
                self._reset()
                raise HubUnavailable(f"cannot send to the hub at {self.address}: {exc}") from None
            return self._await_reply(channel, msg, deadline)
        finally:
            self._lock.release()

    def close(self) -> None:
        """Close the socket and the context of this process (if any)."""
        with self._lock:
            self._reset()
            if self._ctx is not None and self._pid == os.getpid():
                self._ctx.term()
            self._ctx = None

    def _await_reply(self, channel: Channel, msg: Message, deadline: float) -> Any:
        while not channel.socket.poll(_ms_left(deadline)):
            if time.monotonic() >= deadline:
                self._reset()
                raise HubUnavailable(
                    f"hub at {self.address} did not answer within {self.timeout:g} s"
                )
        try:
            incoming = channel.recv(zmq.NOBLOCK)
        except BadMessage as exc:
            self._reset()
            log.error("unreadable reply from the hub: %s", exc.error.message)
            raise HubError(
                ErrorCode.INTERNAL.value, f"unreadable reply from the hub: {exc.error.message}"
            ) from None
        except TransportError as exc:
            self._reset()
            raise HubUnavailable(f"receive from the hub failed: {exc}") from None
        if incoming is None:  # poll said readable; a REQ socket never does this
            self._reset()
            raise HubUnavailable("hub reply vanished")
        reply = incoming.msg
        # An ERROR without reply_to answers a request whose header the hub could not read.
        unread = reply.type is MessageType.ERROR and reply.reply_to is None
        if reply.reply_to != msg.id and not unread:
            self._reset()
            raise HubError(ErrorCode.INTERNAL.value, "hub reply does not match the request")
        if reply.type is MessageType.RESPONSE_OK:
            return reply.body["data"]
        if reply.type is MessageType.ERROR:
            code, text = reply.body["code"], reply.body["message"]
            if code in LINK_ERRORS:
                hint = " (check api.token / api.token_file)" if code == "unauthorized" else ""
                log.error("hub refused the API's message: %s: %s%s", code, text, hint)
                raise HubError(ErrorCode.INTERNAL.value, f"hub refused the request: {code}: {text}")
            raise HubError(code, text)
        raise HubError(ErrorCode.INTERNAL.value, f"unexpected {reply.type} reply from the hub")

    def _get_channel(self) -> Channel:
        pid = os.getpid()
        if self._pid != pid:
            # Forked (gunicorn) or first use: sockets of a parent are never touched.
            self._pid, self._ctx, self._channel = pid, None, None
        if self._channel is None:
            if self._ctx is None:
                self._ctx = self._context_factory()
            sender = self._sender or f"api-{socket.gethostname()}-{pid}"
            codec = Codec(sender, self._key, **_size(self._max_size))
            sock = make_socket(self._ctx, zmq.REQ, codec.max_size, curve=self._curve)
            try:
                connect(sock, self.address)
            except TransportError as exc:
                sock.close(linger=0)
                raise HubUnavailable(str(exc)) from None
            self._channel = Channel(sock, codec)
        return self._channel

    def _reset(self) -> None:
        if self._channel is not None and self._pid == os.getpid():
            self._channel.close()
        self._channel = None


def default_context() -> zmq.Context:
    """A zmq.green context when gevent has patched this process (gunicorn's gevent worker)."""
    try:
        from gevent import monkey
    except ImportError:
        return zmq.Context()
    if monkey.is_module_patched("socket"):
        from zmq import green

        return green.Context()
    return zmq.Context()


def _ms_left(deadline: float) -> int:
    return math.ceil(max(0.0, deadline - time.monotonic()) * 1000)


def _size(max_size: int | None) -> dict[str, int]:
    return {} if max_size is None else {"max_size": max_size}
