"""A peer that stays connected like a real one: handshakes, heartbeats, notes what it hears."""

from __future__ import annotations

import threading
import time

import zmq

from protocol.envelope import Codec, Message
from protocol.transport import Channel, make_socket
from protocol.types import MessageType
from tests.support.hub import token_for


class LivePeer:
    """A DEALER on its own thread: handshake, a HEARTBEAT every interval, every reply read.

    `forgotten` counts UNKNOWN_CLIENT answers (the hub dropped us) and `longest_silence`
    is the longest time without a message from the hub, in seconds.
    """

    def __init__(self, address: str, client_id: str, client_type: str = "client") -> None:
        self.address, self.client_id, self.client_type = address, client_id, client_type
        self.forgotten = 0
        self.longest_silence = 0.0
        self.heartbeats = 0
        self.welcomed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LivePeer:
        self._thread.start()
        if not self.welcomed.wait(10):
            raise AssertionError(f"{self.client_id}: no HANDSHAKE_OK within 10 s")
        self.longest_silence = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        channel = Channel(make_socket(zmq.Context.instance(), zmq.DEALER, 1 << 20),
                          Codec(self.client_id))
        channel.socket.connect(self.address)
        body = {"client_id": self.client_id, "client_type": self.client_type,
                "version": "test", "protocol": 1, "token": token_for(self.address)}
        interval, last_heard, next_beat = 0.2, time.monotonic(), 0.0
        try:
            channel.send(Message(MessageType.HANDSHAKE, body))
            while not self._stop.is_set():
                now = time.monotonic()
                if self.welcomed.is_set() and now >= next_beat:
                    channel.send(Message(MessageType.HEARTBEAT, {}))
                    next_beat = now + interval
                if not channel.socket.poll(20):
                    self.longest_silence = max(self.longest_silence, now - last_heard)
                    continue
                msg = channel.recv().msg
                last_heard = time.monotonic()
                if msg.type is MessageType.HANDSHAKE_OK:
                    interval = msg.body["heartbeat_interval"]
                    self.welcomed.set()
                elif msg.type is MessageType.UNKNOWN_CLIENT:
                    self.forgotten += 1
                    channel.send(Message(MessageType.HANDSHAKE, body))
                elif msg.type is MessageType.HEARTBEAT:
                    self.heartbeats += 1
        finally:
            channel.close()


def api_status(address: str, token: str) -> tuple[dict, float]:
    """enodo_status through the api socket (as gunicorn asks it) and the seconds it took."""
    channel = Channel(make_socket(zmq.Context.instance(), zmq.REQ, 1 << 20), Codec("probe"))
    channel.socket.connect(address)
    try:
        started = time.monotonic()
        channel.send(Message(MessageType.API_REQUEST, {"action": "enodo_status", "token": token}))
        assert channel.socket.poll(3000), "enodo_status not answered within 3 s"
        return channel.recv().msg.body["data"], time.monotonic() - started
    finally:
        channel.close()
