"""A real hub process for integration tests, and a small DEALER peer to talk to it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import zmq
import zmq.auth

from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.session import new_nonce, session_key
from protocol.transport import Channel, make_socket
from protocol.types import MessageType
from tests.support.process import ActorProcess
from tests.support.waiting import free_port, wait_for

#: Every HubProcess by each of its addresses (tcp://127.0.0.1:<port>), so that Peer,
#: ListenerProcess, WorkerProcess and Gunicorn present the right hub token.
HUBS: dict[str, HubProcess] = {}


def token_for(address: str) -> str | None:
    """The token of the HubProcess at address (None: no such hub, or no token written yet)."""
    hub = HUBS.get(address)
    try:
        return hub.token if hub is not None else None
    except FileNotFoundError:
        return None


def token_env(address: str, prefix: str) -> dict[str, str]:
    """Env for a peer of the hub at address: ENODO_<prefix>_TOKEN or _TOKEN_FILE.

    A peer of no HubProcess (a fake hub) gets an empty token file: no token, and never
    the token of a `make run` stack in the working directory.
    """
    hub = HUBS.get(address)
    if hub is None:
        return {f"ENODO_{prefix}_TOKEN_FILE": ""}
    if hub.env.get("ENODO_HUB_TOKEN"):
        return {f"ENODO_{prefix}_TOKEN": hub.env["ENODO_HUB_TOKEN"]}
    return {f"ENODO_{prefix}_TOKEN_FILE": str(hub.data_dir / "token")}


class HubProcess(ActorProcess):
    """enodo-hub on random loopback ports with its own data_dir (and so its own token)."""

    def __init__(self, tmp: Path, extra: dict[str, str] | None = None) -> None:
        self.data_dir = tmp / "hub-data"
        self.ports = {name: free_port() for name in ("control", "results", "api")}
        for name in self.ports:
            HUBS[self.address(name)] = self
        self.env = dict(os.environ)
        self.env.update(
            {f"ENODO_HUB_{name.upper()}_PORT": str(p) for name, p in self.ports.items()}
        )
        self.env.update(
            ENODO_HUB_DATA_DIR=str(self.data_dir), ENODO_HUB_HEARTBEAT_INTERVAL="0.2",
            ENODO_SIRIDB_HOST="", ENODO_HUB_LOG_LEVEL="DEBUG",
        )
        self.env.update(extra or {})
        super().__init__(tmp / "hub.log", self.env)

    def address(self, name: str) -> str:
        """The tcp:// address of one hub socket."""
        return f"tcp://127.0.0.1:{self.ports[name]}"

    def peer_options(self) -> dict[str, Any]:
        """Peer keyword arguments for this hub's signing key and CURVE, when it has them."""
        key = self.env.get("ENODO_HUB_SIGNING_KEY", "").encode() or None
        curve = None
        if self.env.get("ENODO_HUB_CURVE", "").lower() in ("1", "true", "yes", "on"):
            public = zmq.auth.load_certificate(self.data_dir / "hub.key")[0]
            curve = CurveClient.for_server(public)
        return {"key": key, "curve": curve}

    @property
    def token(self) -> str:
        """The hub's token: ENODO_HUB_TOKEN, else the one it generated in data_dir/token."""
        return self.env.get("ENODO_HUB_TOKEN") or (self.data_dir / "token").read_text().strip()

    def start(self, timeout: float = 15.0) -> HubProcess:
        """Start the hub and wait until it answers a handshake."""
        self.spawn("actors.hub.main")

        def answers() -> bool:
            assert self.proc.poll() is None, f"hub exited: {self.log_path.read_text()[-2000:]}"
            with Peer(self.address("control"), "probe", "client", **self.peer_options()) as peer:
                return peer.handshake(timeout=0.5).type is MessageType.HANDSHAKE_OK

        wait_for(answers, timeout, "the hub to answer a handshake")
        return self


class Peer:
    """A DEALER that handshakes with the hub and sends API requests.

    token None (the default) presents the token of the HubProcess at address; "" sends none.
    """

    def __init__(
        self, address: str, client_id: str, client_type: str, token: str | None = None,
        key: bytes | None = None, curve: CurveClient | None = None,
    ) -> None:
        self.ctx = zmq.Context.instance()
        sock = make_socket(self.ctx, zmq.DEALER, 1 << 24, curve=curve)
        self.channel = Channel(sock, Codec(client_id, key))
        self.channel.socket.connect(address)
        self.address = address
        self.client_id, self.client_type, self.token = client_id, client_type, token
        self.pushed: list[Message] = []
        self.session_key: bytes | None = None  # a worker's, after HANDSHAKE_OK

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

    def handshake(self, timeout: float = 5.0, **extra: Any) -> Message:
        """Send HANDSHAKE and return the hub's answer.

        A worker sends a nonce (unless extra says otherwise) and keeps the session key.
        """
        body = {
            "client_id": self.client_id, "client_type": self.client_type,
            "version": "test", "protocol": 1,
        }
        if self.client_type == "worker":
            body["nonce"] = new_nonce()
        token = token_for(self.address) if self.token is None else self.token
        if token:
            body["token"] = token
        body.update(extra)
        answer = self.request(Message(MessageType.HANDSHAKE, body), timeout)
        if answer.type is MessageType.HANDSHAKE_OK and "nonce" in answer.body:
            self.session_key = session_key(token or "", self.client_id, body["nonce"],
                                           answer.body["nonce"])
        return answer

    def api(self, action: str, timeout: float = 5.0, **params: Any) -> Message:
        """Run an API action over the control socket."""
        body = {"action": action, "params": params}
        return self.request(Message(MessageType.API_REQUEST, body), timeout)


def store_forecast(hub: HubProcess, name: str, n: int) -> None:
    """Store an n-point forecast of name while the hub is stopped, as a result would; restart it."""
    from actors.hub.store import Store

    hub.stop()
    store = Store(str(hub.data_dir))
    store.put_output(name, "forecast", {
        "timestamps": list(range(10**12, 10**12 + n)), "mean": [i * 0.5 for i in range(n)],
        "lower": [i * 0.5 - 3.25 for i in range(n)], "upper": [i * 0.5 + 3.25 for i in range(n)],
        "level": 0.95,
    })
    store.commit()
    store.close()
    hub.start()
