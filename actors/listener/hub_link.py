"""The listener's session with the hub: handshake, watch list, counts, heartbeats, reconnects.

Counts leave the PointCounter only inside a LISTENER_ADD_SERIE_COUNT and are kept in
`unacked` until the hub's RESPONSE_OK; when the hub goes silent, restarts or forgets
us, every unacknowledged count goes back into the counter and is sent again after the
next handshake. A count can then arrive twice (the hub applied it but its answer was
lost) but never not at all; the hub reconciles counts with SiriDB anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import zmq.asyncio

from actors.common.peer_session import hello_body
from actors.common.session_async import AsyncSession, SessionEnded
from actors.listener.counter import PointCounter
from actors.listener.discovery import Discovery
from actors.listener.telemetry import ListenerMetrics
from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.errors import TransportError
from protocol.transport_async import AsyncChannel
from protocol.types import MessageType

log = logging.getLogger(__name__)

#: Series per LISTENER_ADD_SERIE_COUNT message, so one message stays far below the size limit.
MAX_SERIES_PER_MESSAGE = 5000
#: Bytes of series names per message: the hub's control socket refuses messages over its
#: control_max_message_size (1 MiB by default) by dropping the connection.
MAX_NAME_BYTES_PER_MESSAGE = 256 * 1024


def _chunks(counts: dict[str, int]) -> list[dict[str, int]]:
    """Split counts (those > 0) into messages of bounded series and name bytes."""
    chunks: list[dict[str, int]] = []
    chunk: dict[str, int] = {}
    size = 0
    for name, n in counts.items():
        if n <= 0:
            continue
        # Encoded size, from above without encoding: printable ASCII takes at most 2 bytes
        # a character in JSON (the limit keeps 4x room), anything else at most 6.
        cost = (len(name) if name.isascii() and name.isprintable() else 6 * len(name)) + 32
        if chunk and (len(chunk) >= MAX_SERIES_PER_MESSAGE
                      or size + cost > MAX_NAME_BYTES_PER_MESSAGE):
            chunks.append(chunk)
            chunk, size = {}, 0
        chunk[name] = n
        size += cost
    if chunk:
        chunks.append(chunk)
    return chunks


class HubLink:
    """Keeps a session with the hub and delivers the counter's counts to it."""

    def __init__(
        self,
        ctx: zmq.asyncio.Context,
        address: str,
        codec: Codec,
        counter: PointCounter,
        *,
        client_id: str,
        version: str,
        token: str | Callable[[], str] = "",
        update_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        curve: CurveClient | None = None,
        metrics: ListenerMetrics | None = None,
        discovery: Discovery | None = None,
    ) -> None:
        self.metrics = metrics or ListenerMetrics()
        self.counter = counter
        self.client_id = client_id
        self.version = version
        self.token = token  # a callable is asked at each handshake
        self.update_interval = update_interval
        self.clock = clock
        self.address = address
        self.link = AsyncSession(ctx, address, codec, self._hello, curve=curve, clock=clock)
        self.unacked: dict[str, tuple[float, dict[str, int]]] = {}
        self.realtime_ready = asyncio.Event()
        self.online = asyncio.Event()
        self.stopping = self.link.stopping
        self.sent_points = 0
        self.discovery = discovery  # matches the hub's patterns in the tee

    def on_counts(self, raw_counts: dict[bytes, int]) -> None:
        """Tee callback: count the package; wake the session for realtime series."""
        self.metrics.packages.inc()
        self.metrics.points.inc(self.counter.add_raw(raw_counts))
        if self.counter.has_realtime_pending():
            self.realtime_ready.set()

    async def run(self) -> None:
        """Hold a session with the hub until stop(), reconnecting with backoff."""
        await self.link.run(self._session, self._ended)

    def stop(self) -> None:
        """End the session (SHUTDOWN is sent to the hub)."""
        self.link.stop()

    def _hello(self) -> dict[str, Any]:
        token = self.token() if callable(self.token) else self.token
        return hello_body(self.client_id, "listener", self.version, token)

    async def _ended(self, channel: AsyncChannel) -> None:
        self.online.clear()
        self._restore_unacked()
        if self.stopping.is_set():
            await self._say_goodbye(channel)

    async def _session(self, channel: AsyncChannel) -> None:
        link = self.link
        self.online.set()
        await self._flush(channel, self.counter.take())  # what waited for the hub
        next_flush = self.clock() + self.update_interval
        receiving = asyncio.ensure_future(link.recv(channel, None))
        realtime = asyncio.ensure_future(self.realtime_ready.wait())
        stopping = asyncio.ensure_future(self.stopping.wait())
        try:
            while not self.stopping.is_set():
                timeout = max(0.0, min(link.deadline(), next_flush) - self.clock())
                done, _ = await asyncio.wait(
                    {receiving, realtime, stopping},
                    timeout=timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                now = self.clock()
                if receiving in done:
                    msg = receiving.result()
                    if not link.check(msg):
                        self._handle(msg)
                    receiving = asyncio.ensure_future(link.recv(channel, None))
                if realtime in done:
                    self.realtime_ready.clear()
                    await self._flush(channel, self.counter.take_realtime())
                    realtime = asyncio.ensure_future(self.realtime_ready.wait())
                if now >= next_flush:
                    self._resend_stale(now, link.session.silence)
                    await self._flush(channel, self.counter.take())
                    await self._report_seen(channel)
                    next_flush = now + self.update_interval
                await link.tick(channel)
        finally:
            for task in (receiving, realtime, stopping):
                task.cancel()

    def _handle(self, msg: Message) -> None:
        kind = msg.type
        if kind is MessageType.UPDATE_SERIES:
            series = msg.body["series"]
            self.counter.replace(
                [s["name"] for s in series], [s["name"] for s in series if s.get("realtime")]
            )
            log.info("watching %d series", len(series))
        elif kind is MessageType.ADD_SERIE:
            self.counter.watch(msg.body["name"], msg.body.get("realtime", False))
        elif kind is MessageType.REMOVE_SERIE:
            self.counter.unwatch(msg.body["name"])
        elif kind is MessageType.UPDATE_PATTERNS and self.discovery is not None:
            self.discovery.replace(msg.body["patterns"])
        elif kind is MessageType.RESPONSE_OK:
            entry = self.unacked.pop(msg.reply_to or "", None)
            if entry is not None:
                self.sent_points += sum(entry[1].values())
        elif kind is MessageType.ERROR:
            entry = self.unacked.pop(msg.reply_to or "", None)
            log.error("hub refused %s: %s", "counts" if entry else "a message", msg.body)
            if msg.body.get("code") == "unknown_client" and entry is not None:
                self.counter.restore(entry[1])
                raise SessionEnded("hub does not know us")

    async def _flush(self, channel: AsyncChannel, counts: dict[str, int]) -> None:
        for chunk in _chunks(counts):
            msg = Message(MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": chunk})
            self.unacked[msg.id] = (self.clock(), chunk)
            await channel.send(msg)
            self.metrics.reports.inc()

    async def _report_seen(self, channel: AsyncChannel) -> None:
        """Tell the hub the unwatched series of the tee that match its patterns."""
        if self.discovery is None or not self.discovery.found:
            return
        for chunk in _chunks(dict.fromkeys(self.discovery.take(), 1)):
            await channel.send(Message(MessageType.SERIES_SEEN, {"names": list(chunk)}))

    def _resend_stale(self, now: float, silence: float) -> None:
        stale = [mid for mid, (sent, _) in self.unacked.items() if now - sent > silence]
        for mid in stale:
            self.counter.restore(self.unacked.pop(mid)[1])

    def _restore_unacked(self) -> None:
        for _, counts in self.unacked.values():
            self.counter.restore(counts)
        self.unacked.clear()

    async def _say_goodbye(self, channel: AsyncChannel) -> None:
        try:
            await asyncio.wait_for(
                channel.send(Message(MessageType.SHUTDOWN, {"reason": "listener stopping"})), 1.0
            )
        except (TimeoutError, TransportError):
            pass
