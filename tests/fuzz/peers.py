"""Raw ZMQ peers that send any frames, and a log tail to wait on a process's log lines."""

from __future__ import annotations

import time
from pathlib import Path

import zmq

from protocol.envelope import Codec, Message
from protocol.types import MessageType
from tests.support.waiting import wait_for

#: What the hub may send a peer: replies and its own pushes.
HUB_SENDS = frozenset({
    MessageType.RESPONSE_OK, MessageType.ERROR, MessageType.HANDSHAKE_OK,
    MessageType.HANDSHAKE_FAIL, MessageType.UNKNOWN_CLIENT, MessageType.HEARTBEAT,
    MessageType.UPDATE_SERIES, MessageType.ADD_SERIE, MessageType.REMOVE_SERIE,
    MessageType.SERIES_UPDATE, MessageType.SHUTDOWN,
})


def hub_token(hub: object) -> str | None:
    """The token a HubProcess wants in HANDSHAKE and api requests (None: it wants none)."""
    try:
        return getattr(hub, "token", None) or None
    except FileNotFoundError:
        return None


def with_token(body: dict, token: str | None) -> dict:
    """body with "token" added when there is one."""
    return {**body, "token": token} if token else body


class RawPeer:
    """A ZMQ socket that sends raw frames and reads replies as protocol messages."""

    def __init__(self, address: str, socket_type: int = zmq.DEALER,
                 identity: bytes | None = None, ctx: zmq.Context | None = None) -> None:
        self.ctx = ctx or zmq.Context.instance()
        self.sock = self.ctx.socket(socket_type)
        self.sock.setsockopt(zmq.LINGER, 0)
        if identity is not None:
            self.sock.setsockopt(zmq.IDENTITY, identity)
        self.sock.connect(address)
        self.codec = Codec("fuzz")

    def close(self) -> None:
        """Close at once."""
        self.sock.close(linger=0)

    def send_raw(self, frames: list[bytes]) -> None:
        """Send frames as one multipart message (an empty list is one empty frame)."""
        self.sock.send_multipart(frames or [b""])

    def send(self, msg: Message, delimiter: bool = False) -> None:
        """Send a well-formed message; with delimiter, as a REQ socket frames it."""
        self.send_raw(([b""] if delimiter else []) + self.codec.encode(msg))

    def collect(self, msg_id: str | None, timeout: float = 5.0) -> tuple[Message, list[Message]]:
        """Read until the reply to msg_id; return it and what came before (all decoded).

        msg_id None waits for the first ERROR answering no id (a message whose header
        the hub did not read).

        Every message is decoded strictly: anything the peer sends that is not a valid
        protocol message fails the test.
        """
        before: list[Message] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(left * 1000):
                raise TimeoutError(f"no reply to {msg_id} within {timeout}s")
            frames = self.sock.recv_multipart()
            if frames and frames[0] == b"":
                frames = frames[1:]
            msg = self.codec.decode(frames)
            if msg.reply_to == msg_id and (msg_id or msg.type is MessageType.ERROR):
                return msg, before
            before.append(msg)

    def request(self, msg: Message, delimiter: bool = False,
                timeout: float = 5.0) -> tuple[Message, list[Message]]:
        """Send msg and collect up to its reply."""
        self.send(msg, delimiter)
        return self.collect(msg.id, timeout)


class LogTail:
    """Reads a growing log file from where it last stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self.text = ""

    def read(self) -> str:
        """Return what was written since the last call (whole lines and all)."""
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            new = log.read()
        self.offset += len(new)
        self.text = (self.text + new.decode(errors="replace"))[-200_000:]
        return self.text

    def wait_for(self, needle: str, timeout: float = 5.0) -> None:
        """Wait until needle appears in the log (after the tail's start)."""
        wait_for(lambda: needle in self.read(), timeout, f"{needle!r} in {self.path.name}")
