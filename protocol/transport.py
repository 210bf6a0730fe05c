"""The socket boundary: Messages in and out of ZMQ sockets, zmq errors translated.

Actors use `Channel` and never catch `zmq.ZMQError`: a failure of the socket
becomes `TransportError`, a bad message becomes `BadMessage` carrying the route
to answer on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import zmq

from protocol.curve import Curve
from protocol.envelope import Codec, Message
from protocol.errors import ProtocolError, TransportError

#: Room for the tag, signature and header frames on top of the message size limit.
FRAME_SLACK = 4096


@dataclass(slots=True)
class Incoming:
    """A received message and the routing frames to answer it on (ROUTER only)."""

    route: list[bytes]
    msg: Message
    #: The sender's network address (ZeroMQ's Peer-Address, e.g. "127.0.0.1"), read only for
    #: identities the channel's `note_address` asks about; None otherwise.
    address: str | None = None

    @property
    def peer(self) -> bytes:
        """The ZMQ identity of the sender (b'' on a non-routed socket)."""
        return self.route[0] if self.route else b""


class BadMessage(Exception):
    """A message that could not be decoded; `route` says where to send the error."""

    def __init__(self, route: list[bytes], error: ProtocolError) -> None:
        super().__init__(error.message)
        self.route = route
        self.error = error


def make_socket(
    ctx: zmq.Context, socket_type: int, max_size: int, identity: bytes | None = None,
    curve: Curve | None = None, rcvhwm: int | None = None,
) -> zmq.Socket:
    """Create a socket with linger 0, an inbound size limit (ZMQ_MAXMSGSIZE) and CURVE if given.

    rcvhwm bounds the messages queued per connection (ZeroMQ's default is 1000).
    """
    try:
        sock = ctx.socket(socket_type)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.MAXMSGSIZE, max_size + FRAME_SLACK)
        if rcvhwm is not None:
            sock.setsockopt(zmq.RCVHWM, rcvhwm)
        if curve is not None:
            curve.apply(sock)
        if identity is not None:
            sock.setsockopt(zmq.IDENTITY, identity)
        if socket_type == zmq.ROUTER:
            # A message to a peer that is gone fails loudly instead of vanishing.
            sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
    except zmq.ZMQError as exc:
        raise TransportError(f"cannot create socket: {exc}") from exc
    return sock


def bind(sock: zmq.Socket, address: str) -> str:
    """Bind sock to address and return the endpoint actually bound (port 0 resolved)."""
    try:
        sock.bind(address)
        return sock.getsockopt_string(zmq.LAST_ENDPOINT)
    except zmq.ZMQError as exc:
        raise TransportError(f"cannot bind {address}: {exc}") from exc


def connect(sock: zmq.Socket, address: str) -> None:
    """Connect sock to address."""
    try:
        sock.connect(address)
    except zmq.ZMQError as exc:
        raise TransportError(f"cannot connect to {address}: {exc}") from exc


def poll(poller: zmq.Poller, timeout: float) -> dict[zmq.Socket, int]:
    """The sockets ready within timeout seconds; none when a signal interrupted the wait."""
    try:
        return dict(poller.poll(timeout * 1000))
    except zmq.ZMQError as exc:
        if exc.errno == zmq.EINTR:
            return {}  # a signal handler ran (SIGTERM sets a flag): the loop looks at it
        raise TransportError(f"poll failed: {exc}") from exc


class Channel:
    """A ZMQ socket paired with a Codec; ROUTER sockets keep routing frames apart."""

    #: Messages one recv() may drop for `admit` before it returns None (the caller's turn
    #: goes on; the rest wait for its next recv).
    MAX_DROPS = 1000

    def __init__(
        self, sock: zmq.Socket, codec: Codec,
        admit: Callable[[list[bytes], list[bytes]], bool] | None = None,
        note_address: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.socket = sock
        self.codec = codec
        self.routed = sock.type == zmq.ROUTER
        #: Called with (route, frames) before decoding; False drops the message unread.
        self.admit = admit
        #: Called with a ROUTER message's identity: True reads the sender's address into
        #: Incoming.address (a frame received without copying carries it; the others are
        #: copied, which is cheaper for small messages, so only new peers pay for it).
        self.note_address = note_address if self.routed else None

    def send(
        self, msg: Message, route: list[bytes] | None = None, flags: int = 0,
        session_key: bytes | None = None,
    ) -> None:
        """Send msg, prefixed with route on a ROUTER socket (with a session MAC if keyed).

        Raises ProtocolError when msg breaks its schema or the size limit, and
        TransportError when the socket refuses (e.g. the peer is gone).
        """
        self.send_frames(self.codec.encode(msg, session_key), route, flags)

    def send_frames(
        self, frames: list[bytes], route: list[bytes] | None = None, flags: int = 0
    ) -> None:
        """Send already encoded frames (for fan-out of one encoded message).

        Part by part rather than with send_multipart(), whose per-part checks cost 4x the
        sends of a small message (pyzmq 27); ZMQ still delivers the parts all or none.
        """
        parts = (route or []) + frames
        send = self.socket.send
        more = zmq.SNDMORE | flags
        try:
            for part in parts[:-1]:
                send(part, more)
            send(parts[-1], flags)
        except zmq.ZMQError as exc:
            raise TransportError(f"send failed: {exc}") from exc

    def recv(self, flags: int = 0) -> Incoming | None:
        """Receive one message; None when flags has NOBLOCK and nothing is waiting.

        Raises BadMessage for a message that cannot be decoded.
        """
        address = None
        for _ in range(self.MAX_DROPS):
            try:
                if self.note_address is None:
                    frames = self.socket.recv_multipart(flags)
                else:
                    frames, address = self._recv_noting_address(flags)
            except zmq.Again:
                return None
            except zmq.ZMQError as exc:
                raise TransportError(f"receive failed: {exc}") from exc
            route: list[bytes] = []
            if self.routed:
                # DEALER peers send [id, *msg]; REQ peers add an empty delimiter frame.
                cut = 2 if len(frames) > 1 and frames[1] == b"" else 1
                route, frames = frames[:cut], frames[cut:]
            if self.admit is None or self.admit(route, frames):
                break
        else:
            return None
        try:
            return Incoming(route, self.codec.decode(frames), address)
        except ProtocolError as exc:
            raise BadMessage(route, exc) from None

    def _recv_noting_address(self, flags: int) -> tuple[list[bytes], str | None]:
        """recv_multipart, part by part as pyzmq's own does, and the sender's address when
        note_address asks for it (raises zmq.Again before the first part only)."""
        sock = self.socket
        frames = [sock.recv(flags)]
        want = self.note_address(frames[0])
        address = None
        while sock.getsockopt(zmq.RCVMORE):
            if want and address is None:
                frame = sock.recv(copy=False)
                try:
                    address = frame.get("Peer-Address")  # the identity frame has none
                except zmq.ZMQError:  # not on this transport (inproc)
                    want = False
                frames.append(frame.bytes)
            else:
                frames.append(sock.recv())
        return frames, address

    def close(self) -> None:
        """Close the socket at once (linger 0)."""
        self.socket.close(linger=0)
