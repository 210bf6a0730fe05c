"""docs/deploy.md's layout on namespaces: each host runs the shipped supervisord files.

A hub host (hub and REST API), a SiriDB host (the development SiriDB and a listener beside
it) and worker hosts, each a namespace of tests/support/netns.py running its own supervisord
with configs/supervisord/host.conf and its roles, as an operator would. The example
addresses of configs/deploy/*.conf are replaced through ENODO_<SECTION>_<KEY> variables in
the host's environment, as its environment file would; the ports are the defaults.
"""

from __future__ import annotations

import http.client
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import ujson
import zmq.auth

from actors.common.auth import new_token, write_private
from protocol.curve import CurveClient
from protocol.envelope import Message
from protocol.types import MessageType
from scripts.siridb_dev.testing import DevServer
from tests.support.hub import Peer
from tests.support.netns import Host, Network
from tests.support.process import ActorProcess
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
HOST_CONF = ROOT / "configs" / "supervisord" / "host.conf"
DATABASE = "dbtest"
SIRIDB_PORT, API_PORT, CONTROL_PORT = 9000, 8000, 5560
T = TypeVar("T")


class NetnsDevServer(DevServer):
    """The development SiriDB run on another host."""

    def __init__(self, host: Host, **kwargs: Any) -> None:
        super().__init__(host=host.address, port=SIRIDB_PORT, **kwargs)
        self.on = host

    def command(self) -> list[str]:
        return [*self.on.prefix, *super().command()]


class Supervised(ActorProcess):
    """One host's supervisord, running the role files of configs/supervisord/ named."""

    def __init__(self, host: Host, run_dir: Path, roles: list[str], env: dict[str, str]) -> None:
        self.host = host
        self.run_dir = run_dir
        (run_dir / "logs").mkdir(parents=True, exist_ok=True)
        super().__init__(run_dir / "supervisord.out", {
            **os.environ, "ENODO_ROOT": str(ROOT), "ENODO_PYTHON": sys.executable,
            "ENODO_RUN_DIR": str(run_dir), "ENODO_ROLES": " ".join(roles), **env,
        }, prefix=host.prefix)

    def start(self) -> Supervised:
        """Start supervisord (in the foreground, as host.conf says) on its host."""
        self.spawn("supervisor.supervisord", "-c", str(HOST_CONF))
        return self

    def log(self, program: str) -> str:
        """The log of one of its programs."""
        path = self.run_dir / "logs" / f"{program}.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Deployment:
    """The hosts, their supervisords and the way in: REST and the hub's control socket."""

    def __init__(self, tmp: Path, network: Network, workers: list[str],
                 select_delay: float) -> None:
        self.tmp, self.network = tmp, network
        self.hub_host = network.add_host("hub")
        self.db_host = network.add_host("siridb")
        self.worker_hosts = [network.add_host(name) for name in workers]
        self.db = NetnsDevServer(self.db_host, dbname=DATABASE, tee="127.0.0.1:9104",
                                 extra_args=("--select-delay", str(select_delay)))
        self.hosts: dict[str, Supervised] = {}
        self.rest_token = new_token()

    def siridb_env(self) -> dict[str, str]:
        return {"ENODO_SIRIDB_HOST": self.db_host.address, "ENODO_SIRIDB_DATABASE": DATABASE}

    def start(self) -> Deployment:
        """SiriDB, then the hub host; its key and token copied out; then the other hosts."""
        self.db.start()
        hub_dir = self.tmp / "hub"
        write_private(str(hub_dir / "rest.token"), self.rest_token + "\n")
        hub = self.hub_host.address
        self.hosts["hub"] = Supervised(self.hub_host, hub_dir, ["hub.conf", "api.conf"], {
            "ENODO_HUB_BIND_HOST": hub, "ENODO_API_HUB_ADDRESS": f"tcp://{hub}:5563",
            "ENODO_API_BIND": f"{hub}:{API_PORT}", "ENODO_API_WORKERS": "1",
            "ENODO_HUB_SIRIDB_CHECK_INTERVAL": "0.5", **self.siridb_env(),
        }).start()
        self.wait(lambda: (hub_dir / "hub" / "hub.key").exists()
                  and (hub_dir / "hub" / "token").exists(), 30,
                  "the hub to write its public key and its token")
        peers = {"siridb": (self.db_host, ["listener.conf"], {
            "ENODO_LISTENER_HUB_HOST": hub, "ENODO_LISTENER_UPDATE_INTERVAL": "0.2"})}
        for host in self.worker_hosts:
            peers[host.name] = (host, ["worker.conf"], {
                "ENODO_WORKER_HUB_HOST": hub, "ENODO_WORKERS": "1",
                # The namespaces share one host name: each worker host its own id.
                "ENODO_WORKER_WORKER_ID": host.name, **self.siridb_env()})
        for name, (host, roles, env) in peers.items():
            run_dir = self.tmp / name
            self.copy_hub_secrets(hub_dir / "hub", run_dir)
            self.hosts[name] = Supervised(host, run_dir, roles, env).start()
        return self

    @staticmethod
    def copy_hub_secrets(hub_data: Path, run_dir: Path) -> None:
        """What the operator copies to a peer host: hub.key, and the token as a 0600 file."""
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(hub_data / "hub.key", run_dir / "hub.key")
        write_private(str(run_dir / "hub.token"), (hub_data / "token").read_text())

    def rest(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One REST request to the API on the hub host, with the REST bearer token."""
        conn = http.client.HTTPConnection(self.hub_host.address, API_PORT, timeout=10)
        try:
            headers = {"Authorization": f"Bearer {self.rest_token}"}
            data = None if body is None else ujson.dumps(body)
            if data is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, ujson.loads(resp.read())
        finally:
            conn.close()

    def hub_action(self, action: str, **params: Any) -> Any:
        """An API action over the hub's control socket, under CURVE with its token."""
        hub_data = self.tmp / "hub" / "hub"
        public = zmq.auth.load_certificate(hub_data / "hub.key")[0]
        with Peer(f"tcp://{self.hub_host.address}:{CONTROL_PORT}", "multihost-test", "client",
                  token=(hub_data / "token").read_text().strip(),
                  curve=CurveClient.for_server(public)) as peer:
            answer = peer.handshake()
            assert answer.type is MessageType.HANDSHAKE_OK, answer
            data = peer.api(action, **params).body["data"]
            # Gone at once, as enodo-client leaves: the hub stops heartbeating a closed socket.
            peer.channel.send(Message(MessageType.SHUTDOWN, {"reason": "done"}))
            return data

    def wait(self, condition: Callable[[], T], timeout: float, what: str) -> T:
        """wait_for, and when it times out the end of every host's logs in the failure."""
        try:
            return wait_for(condition, timeout, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs_tail()}") from None

    def logs_tail(self, chars: int = 1500) -> str:
        """The last characters of each host's supervisord and program logs."""
        parts = []
        for name, host in self.hosts.items():
            for log in sorted((host.run_dir / "logs").glob("*.log")):
                text = log.read_text(errors="replace")[-chars:]
                parts.append(f"--- {name}: {log.name}\n{text}")
        return "\n".join(parts)

    def close(self) -> None:
        """Stop SiriDB (the network kills the rest)."""
        self.db.stop(timeout=5)
