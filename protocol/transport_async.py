"""The socket boundary for asyncio actors (zmq.asyncio), zmq errors translated."""

from __future__ import annotations

import asyncio

import zmq
import zmq.asyncio

from protocol.curve import Curve
from protocol.envelope import Codec, Message
from protocol.errors import ProtocolError, RequestTimeout, TransportError
from protocol.transport import FRAME_SLACK, BadMessage


class AsyncChannel:
    """A zmq.asyncio DEALER/PUSH/PULL socket paired with a Codec."""

    def __init__(
        self, ctx: zmq.asyncio.Context, socket_type: int, codec: Codec,
        curve: Curve | None = None,
    ) -> None:
        try:
            self.socket = ctx.socket(socket_type)
            self.socket.setsockopt(zmq.LINGER, 0)
            self.socket.setsockopt(zmq.MAXMSGSIZE, codec.max_size + FRAME_SLACK)
            if curve is not None:
                curve.apply(self.socket)
        except zmq.ZMQError as exc:
            raise TransportError(f"cannot create socket: {exc}") from exc
        self.codec = codec

    def connect(self, address: str) -> None:
        """Connect to address."""
        try:
            self.socket.connect(address)
        except zmq.ZMQError as exc:
            raise TransportError(f"cannot connect to {address}: {exc}") from exc

    async def send(self, msg: Message) -> None:
        """Send msg (ProtocolError when it breaks its schema)."""
        frames = self.codec.encode(msg)
        try:
            await self.socket.send_multipart(frames)
        except zmq.ZMQError as exc:
            raise TransportError(f"send failed: {exc}") from exc

    async def recv(self, timeout: float | None = None) -> Message:
        """Receive one message; RequestTimeout after timeout seconds, BadMessage if unreadable."""
        try:
            frames = await asyncio.wait_for(self.socket.recv_multipart(), timeout)
        except TimeoutError:
            raise RequestTimeout(f"nothing received in {timeout}s") from None
        except zmq.ZMQError as exc:
            raise TransportError(f"receive failed: {exc}") from exc
        try:
            return self.codec.decode(frames)
        except ProtocolError as exc:
            raise BadMessage([], exc) from None

    def close(self) -> None:
        """Close the socket at once (linger 0)."""
        self.socket.close(linger=0)
