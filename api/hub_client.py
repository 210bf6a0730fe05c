"""The API's link to the hub: REQ sockets per process, each reset when the hub is silent.

This is the zguide's lazy-pirate client without retries (an action such as
add_series is not idempotent): a request that gets no reply within `timeout`
raises HubUnavailable, the socket is closed with linger 0, and the next request
opens a fresh one, so the API recovers by itself once the hub is back.

Under gunicorn's gevent worker (the default) the sockets come from `zmq.green`, so a
request waiting for the hub lets the process serve other connections; each request in
flight has a socket of its own (up to `sockets`, then requests wait for one, and that
wait counts against `timeout`).
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
#: REQ sockets per API process at most (requests in flight to the hub at once).
DEFAULT_SOCKETS = 8

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
    """Sends API_REQUEST actions to the hub's api socket and returns their data.

    Each process keeps up to `sockets` REQ sockets, one per request in flight: a sync
    worker uses one; under gevent concurrent requests of one process go to the hub side by
    side instead of queueing behind one round trip.
    """

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
        sockets: int = DEFAULT_SOCKETS,
    ) -> None:
        if sockets < 1:
            raise ValueError("sockets must be >= 1")
        self.address = address
        self.timeout = timeout
        self.sockets = sockets
        self._key = signing_key or None
        self._token = token
        self._curve = curve
        self._sender = sender
        self._max_size = max_size
        self._lock = threading.Lock()  # guards the fields below
        self._context_factory = context_factory or default_context
        self._pid: int | None = None
        self._ctx: zmq.Context | None = None
        self._slots = threading.BoundedSemaphore(sockets)
        self._idle: list[Channel] = []  # connected sockets waiting for a request
        self._open = 0  # sockets of this process, idle or in use

    @property
    def _channel(self) -> Channel | None:
        """An idle socket of this process, if any (None before the first request)."""
        return self._idle[-1] if self._idle and self._pid == os.getpid() else None

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
        slots = self._own_slots()
        # With every socket busy a request waits here; the wait is part of the timeout.
        if not slots.acquire(timeout=self.timeout):
            raise HubUnavailable(
                f"no free socket to the hub at {self.address} within {self.timeout:g} s"
            )
        try:
            channel = self._checkout()
            try:
                reply = self._exchange(channel, msg, deadline)
            except ProtocolError as exc:  # refused by our own codec before sending: reusable
                self._checkin(channel)
                raise HubError(exc.code.value, exc.message) from None
            except BaseException:
                self._discard(channel)  # lazy pirate: a fresh socket next time
                raise
            self._checkin(channel)
        finally:
            slots.release()
        return _data(reply)

    def close(self) -> None:
        """Close the sockets and the context of this process (if any)."""
        with self._lock:
            if self._pid == os.getpid():
                for channel in self._idle:
                    channel.close()
                if self._ctx is not None:
                    self._ctx.term()
            self._idle, self._open, self._ctx = [], 0, None

    def _own_slots(self) -> threading.BoundedSemaphore:
        with self._lock:
            pid = os.getpid()
            if self._pid != pid:
                # Forked (gunicorn) or first use: sockets of a parent are never touched.
                self._pid, self._ctx, self._idle, self._open = pid, None, [], 0
                self._slots = threading.BoundedSemaphore(self.sockets)
            return self._slots

    def _checkout(self) -> Channel:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._ctx is None:
                self._ctx = self._context_factory()
            self._open += 1
            ctx = self._ctx
        try:
            return self._connect(ctx)
        except BaseException:
            with self._lock:
                self._open -= 1
            raise

    def _checkin(self, channel: Channel) -> None:
        with self._lock:
            self._idle.append(channel)

    def _discard(self, channel: Channel) -> None:
        channel.close()
        with self._lock:
            self._open -= 1

    def _connect(self, ctx: zmq.Context) -> Channel:
        sender = self._sender or f"api-{socket.gethostname()}-{os.getpid()}"
        codec = Codec(sender, self._key, **_size(self._max_size))
        sock = make_socket(ctx, zmq.REQ, codec.max_size, curve=self._curve)
        try:
            connect(sock, self.address)
        except TransportError as exc:
            sock.close(linger=0)
            raise HubUnavailable(str(exc)) from None
        return Channel(sock, codec)

    def _exchange(self, channel: Channel, msg: Message, deadline: float) -> Message:
        """Send msg and return the hub's reply to it; any exception leaves channel unusable."""
        # Poll then send without blocking: SNDTIMEO has no effect on zmq.green sockets.
        if not channel.socket.poll(_ms_left(deadline), zmq.POLLOUT):
            raise HubUnavailable(f"cannot send to the hub at {self.address}: not ready")
        try:
            channel.send(msg, flags=zmq.NOBLOCK)
        except TransportError as exc:
            raise HubUnavailable(f"cannot send to the hub at {self.address}: {exc}") from None
        while not channel.socket.poll(_ms_left(deadline)):
            if time.monotonic() >= deadline:
                raise HubUnavailable(
                    f"hub at {self.address} did not answer within {self.timeout:g} s"
                )
        try:
            incoming = channel.recv(zmq.NOBLOCK)
        except BadMessage as exc:
            log.error("unreadable reply from the hub: %s", exc.error.message)
            raise HubError(
                ErrorCode.INTERNAL.value, f"unreadable reply from the hub: {exc.error.message}"
            ) from None
        except TransportError as exc:
            raise HubUnavailable(f"receive from the hub failed: {exc}") from None
        if incoming is None:  # poll said readable; a REQ socket never does this
            raise HubUnavailable("hub reply vanished")
        reply = incoming.msg
        # An ERROR without reply_to answers a request whose header the hub could not read.
        unread = reply.type is MessageType.ERROR and reply.reply_to is None
        if reply.reply_to != msg.id and not unread:
            raise HubError(ErrorCode.INTERNAL.value, "hub reply does not match the request")
        return reply


def _data(reply: Message) -> Any:
    """The data of a RESPONSE_OK; HubError for an ERROR or anything else."""
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
