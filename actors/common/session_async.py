"""The peer session under asyncio: handshake, liveness and reconnects around the peer's loop.

`run(serve, on_end)` holds sessions until `stop()`: a fresh DEALER per attempt, the
HANDSHAKE and its welcome, then `serve(channel)` (the peer's own loop, which calls
`check()` on each message and `tick()` at `deadline()`), then `on_end(channel)` and the
backoff's wait. The rules themselves are PeerSession's (peer_session.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import zmq.asyncio

from actors.common.backoff import Backoff
from actors.common.peer_session import PeerSession, Signal
from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.errors import RequestTimeout, TransportError
from protocol.transport import BadMessage
from protocol.transport_async import AsyncChannel

log = logging.getLogger(__name__)


class SessionEnded(Exception):
    """The session with the hub is over; handshake again."""


class AsyncSession:
    """A PeerSession over an AsyncChannel, reconnecting with backoff until stop()."""

    def __init__(
        self, ctx: zmq.asyncio.Context, address: str, codec: Codec,
        hello: Callable[[], dict[str, Any]], *, curve: CurveClient | None = None,
        handshake_timeout: float = 5.0, reconnect_min: float = 0.25, reconnect_max: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx, self.address, self.codec, self.curve = ctx, address, codec, curve
        self.clock = clock
        self.session = PeerSession(hello, backoff=Backoff(reconnect_min, reconnect_max),
                                   handshake_timeout=handshake_timeout, clock=clock)
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        """End the sessions after the current one."""
        self.stopping.set()

    async def run(self, serve: Callable[[AsyncChannel], Awaitable[None]],
                  on_end: Callable[[AsyncChannel], Awaitable[None]]) -> None:
        """Handshake, serve, end, wait; again until stop()."""
        while not self.stopping.is_set():
            channel = AsyncChannel(self.ctx, zmq.DEALER, self.codec, self.curve)
            channel.connect(self.address)
            try:
                await self._handshake(channel)
                await serve(channel)
            except (SessionEnded, RequestTimeout, TransportError) as exc:
                log.warning("hub session ended: %s", exc)
            finally:
                await on_end(channel)
                channel.close()
            delay = self.session.end()
            try:
                await asyncio.wait_for(self.stopping.wait(), delay)
            except TimeoutError:
                pass

    async def _handshake(self, channel: AsyncChannel) -> None:
        await channel.send(self.session.handshake())
        while True:
            msg = await self.recv(channel, max(0.0, self.session.expires_at - self.clock()))
            signal = self.session.on_message(msg)
            if signal is Signal.READY:
                return
            if signal is Signal.REFUSED:
                raise SessionEnded(f"hub refused the handshake: {msg.body}")

    async def recv(self, channel: AsyncChannel, timeout: float | None) -> Message:
        """The next readable message from the hub (RequestTimeout after timeout s)."""
        while True:
            try:
                return await channel.recv(timeout)
            except BadMessage as bad:
                log.warning("unreadable message from the hub: %s", bad.error.message)

    def check(self, msg: Message) -> bool:
        """Note msg; True if it was the session's (SessionEnded if it ends the session)."""
        signal = self.session.on_message(msg)
        if signal is Signal.FORGOTTEN:
            raise SessionEnded("hub does not know us (restarted?)")
        if signal is Signal.LEAVING:
            raise SessionEnded("hub is shutting down: " + msg.body.get("reason", ""))
        return signal is not None

    async def tick(self, channel: AsyncChannel) -> None:
        """Heartbeat when due; SessionEnded when the hub has been silent too long."""
        if self.session.expired():
            raise SessionEnded(f"hub silent for {self.session.silence:.1f}s")
        if self.session.heartbeat_due():
            await channel.send(self.session.heartbeat())

    def deadline(self) -> float:
        """When tick() next has something to do."""
        return self.session.deadline()
