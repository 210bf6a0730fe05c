"""A real hub process for integration tests, and a small DEALER peer to talk to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import zmq

from protocol.envelope import Codec, Message
from protocol.transport import Channel, make_socket
from protocol.types import MessageType
from tests.support.waiting import free_port, wait_for


class HubProcess:
    """enodo-hub on random loopback ports with its own data_dir."""

    def __init__(self, tmp: Path, extra: dict[str, str] | None = None) -> None:
        self.data_dir = tmp / "hub-data"
        self.ports = {name: free_port() for name in ("control", "jobs", "results", "api")}
        self.env = dict(os.environ)
        self.env.update(
            {f"ENODO_HUB_{name.upper()}_PORT": str(p) for name, p in self.ports.items()}
        )
        self.env.update(
            ENODO_HUB_DATA_DIR=str(self.data_dir), ENODO_HUB_HEARTBEAT_INTERVAL="0.2",
            ENODO_SIRIDB_HOST="", ENODO_HUB_LOG_LEVEL="DEBUG",
        )
        self.env.update(extra or {})
        self.log_path = tmp / "hub.log"
        self.proc: subprocess.Popen | None = None

    def address(self, name: str) -> str:
        """The tcp:// address of one hub socket."""
        return f"tcp://127.0.0.1:{self.ports[name]}"

    def start(self, timeout: float = 15.0) -> HubProcess:
        """Start the hub and wait until it answers a handshake."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actors.hub.main"], env=self.env, stdout=log, stderr=log
        )
        log.close()

        def answers() -> bool:
            assert self.proc.poll() is None, f"hub exited: {self.log_path.read_text()[-2000:]}"
            with Peer(self.address("control"), "probe", "client") as peer:
                return peer.handshake(timeout=0.5).type is MessageType.HANDSHAKE_OK

        wait_for(answers, timeout, "the hub to answer a handshake")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send sig and wait for the process to end; return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)


class Peer:
    """A DEALER that handshakes with the hub and sends API requests."""

    def __init__(
        self, address: str, client_id: str, client_type: str, token: str | None = None,
        key: bytes | None = None,
    ) -> None:
        self.ctx = zmq.Context.instance()
        self.channel = Channel(make_socket(self.ctx, zmq.DEALER, 1 << 24), Codec(client_id, key))
        self.channel.socket.connect(address)
        self.client_id, self.client_type, self.token = client_id, client_type, token
        self.pushed: list[Message] = []

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket at once."""
        self.channel.close()

    def recv(self, timeout: float = 5.0) -> Message:
        """Receive one message or fail after timeout seconds."""
        if not self.channel.socket.poll(timeout * 1000):
            raise TimeoutError(f"nothing received in {timeout}s")
        return self.channel.recv().msg

    def request(self, msg: Message, timeout: float = 5.0) -> Message:
        """Send msg and return the message answering it (others are kept in pushed)."""
        self.channel.send(msg)
        while True:
            answer = self.recv(timeout)
            if answer.reply_to == msg.id:
                return answer
            self.pushed.append(answer)

    def handshake(self, timeout: float = 5.0) -> Message:
        """Send HANDSHAKE and return the hub's answer."""
        body = {
            "client_id": self.client_id, "client_type": self.client_type,
            "version": "test", "protocol": 1,
        }
        if self.token is not None:
            body["token"] = self.token
        return self.request(Message(MessageType.HANDSHAKE, body), timeout)

    def api(self, action: str, timeout: float = 5.0, **params: Any) -> Message:
        """Run an API action over the control socket."""
        body = {"action": action, "params": params}
        return self.request(Message(MessageType.API_REQUEST, body), timeout)
