"""A whole Enodo stack of real processes for fault tests: SiriDB, hub, workers, listener, API.

Every part can be killed, stopped and started again on the same ports; `HubClient` runs API
actions over the hub's control socket and reconnects by itself after a hub restart.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from protocol.types import MessageType
from scripts.siridb_dev.testing import DevServer
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess, Peer
from tests.support.listener import ListenerProcess
from tests.support.waiting import free_port, wait_for
from tests.support.worker import WorkerProcess

DATABASE = "dbtest"


class HubError(Exception):
    """The hub answered an API action with an ERROR."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class HubClient:
    """API actions over the control socket; a fresh session after a timeout or restart."""

    def __init__(self, hub: HubProcess, client_id: str = "fault-test") -> None:
        self.hub = hub
        self.client_id = client_id
        self.peer: Peer | None = None

    def _session(self, timeout: float) -> Peer:
        if self.peer is None:
            peer = Peer(self.hub.address("control"), self.client_id, "client",
                        token=self.hub.env.get("ENODO_HUB_TOKEN") or None,
                        **self.hub.peer_options())
            try:
                answer = peer.handshake(timeout)
            except TimeoutError:
                peer.close()
                raise
            if answer.type is not MessageType.HANDSHAKE_OK:
                peer.close()
                raise HubError(answer.body.get("code", "?"), answer.body.get("message", ""))
            self.peer = peer
        return self.peer

    def call(self, action: str, timeout: float = 5.0, **params: Any) -> Any:
        """Run an action and return its data; HubError for an ERROR, TimeoutError if silent."""
        for _ in range(2):
            peer = self._session(timeout)
            try:
                answer = peer.api(action, timeout, **params)
            except TimeoutError:
                self.close()
                raise
            if answer.type is MessageType.UNKNOWN_CLIENT:  # the hub restarted: handshake again
                self.close()
                continue
            if answer.type is MessageType.ERROR:
                raise HubError(answer.body["code"], answer.body["message"])
            return answer.body["data"]
        raise HubError("unknown_client", "the hub forgot us twice")

    def series(self, name: str) -> dict[str, Any]:
        """GET /series/{name} as the hub answers it."""
        return self.call("get_series", name=name)

    def status(self) -> dict[str, Any]:
        """The hub's /enodo/status."""
        return self.call("enodo_status")

    def close(self) -> None:
        """Close the session (the next call opens one)."""
        if self.peer is not None:
            self.peer.close()
            self.peer = None


class Stack:
    """SiriDB (development server), a hub, N workers, optionally a listener and gunicorn."""

    def __init__(
        self, tmp: Path, *, workers: int = 2, listener: bool = False, api: bool = False,
        storage: str = "memory", select_delay: float = 0.0,
        hub_env: dict[str, str] | None = None, worker_env: dict[str, str] | None = None,
        listener_env: dict[str, str] | None = None, api_env: dict[str, str] | None = None,
    ) -> None:
        self.tmp = tmp
        self.tee_port = free_port() if listener else None
        extra_args = ("--select-delay", str(select_delay)) if select_delay else ()
        self.db = DevServer(dbname=DATABASE, storage=storage, extra_args=extra_args,
                            tee=f"127.0.0.1:{self.tee_port}" if listener else None)
        self._n_workers = workers
        self._with_listener, self._with_api = listener, api
        self._hub_env = hub_env or {}
        self._listener_env = listener_env or {}
        self._api_env = api_env or {}
        self._worker_env = {
            "ENODO_WORKER_RECONNECT_MIN": "0.1", "ENODO_WORKER_RECONNECT_MAX": "1",
            "ENODO_WORKER_SHUTDOWN_GRACE": "1", "ENODO_SIRIDB_TIMEOUT": "2",
            **(worker_env or {}),
        }
        self.hub: HubProcess | None = None
        self.workers: list[WorkerProcess] = []
        self.listener: ListenerProcess | None = None
        self.api: Gunicorn | None = None
        self.client: HubClient | None = None

    def start(self) -> Stack:
        """Start everything; return once every worker (and the listener) is online."""
        self.db.start()
        self.hub = HubProcess(self.tmp, extra={
            "ENODO_SIRIDB_HOST": "127.0.0.1", "ENODO_SIRIDB_PORT": str(self.db.port),
            "ENODO_SIRIDB_DATABASE": DATABASE, "ENODO_HUB_SIRIDB_CHECK_INTERVAL": "0.5",
            **self._hub_env,
        }).start()
        self.client = HubClient(self.hub)
        for index in range(self._n_workers):
            self.add_worker(index)
        if self._with_listener:
            self.listener = ListenerProcess(self.tmp, self.hub.ports["control"], extra={
                "ENODO_LISTENER_TEE_PORT": str(self.tee_port), **self._listener_env,
            }).start()
        if self._with_api:
            self.api = Gunicorn("api.wsgi:app", env={
                "ENODO_API_HUB_ADDRESS": self.hub.address("api"), "ENODO_API_TIMEOUT": "2",
                # The console reads series history from this SiriDB itself.
                "ENODO_SIRIDB_HOST": "127.0.0.1", "ENODO_SIRIDB_PORT": str(self.db.port),
                "ENODO_SIRIDB_DATABASE": DATABASE,
                **self._api_env,
            }).start()
        self.wait_online(workers=self._n_workers, listeners=int(self._with_listener))
        return self

    def add_worker(self, index: int) -> WorkerProcess:
        """Start worker number index (again, after a kill: the same id, as a supervisor does)."""
        assert self.hub is not None
        worker = WorkerProcess(self.tmp, self.hub.ports, self.db.port, index,
                               extra=self._worker_env).start()
        self.workers = [w for w in self.workers if w.index != index] + [worker]
        return worker

    def worker(self, worker_id: str) -> WorkerProcess:
        """The worker process with this client id."""
        return next(w for w in self.workers if w.worker_id == worker_id)

    def online(self) -> dict[str, bool]:
        """client id -> online, as the hub lists its clients."""
        assert self.client is not None
        clients = self.client.call("list_clients")["clients"]
        return {c["client_id"]: c["online"] for c in clients}

    def wait_online(self, workers: int, listeners: int = 0, timeout: float = 60.0) -> None:
        """Wait until the hub counts this many workers and listeners online."""
        def counted() -> bool:
            assert self.client is not None
            peers = self.client.status()["peers"]
            return peers["worker"] == workers and peers["listener"] == listeners

        wait_for(counted, timeout, f"{workers} workers and {listeners} listeners online")

    def job(self, name: str, kind: str) -> dict[str, Any]:
        """The state of a series' job of one kind (state, error, worker, attempt)."""
        assert self.client is not None
        return self.client.series(name)["jobs"][kind]

    def alive(self) -> dict[str, bool]:
        """Which processes are still running (hub, workers, listener, SiriDB, gunicorn)."""
        procs = {"hub": self.hub.proc if self.hub else None, "siridb": self.db.proc}
        procs.update({w.worker_id: w.proc for w in self.workers})
        if self.listener is not None:
            procs["listener"] = self.listener.proc
        if self.api is not None:
            procs["api"] = self.api.proc
        return {name: p is not None and p.poll() is None for name, p in procs.items()}

    def close(self) -> None:
        """Kill everything (SIGCONT first: a stopped process cannot die)."""
        if self.client is not None:
            self.client.close()
        if self.api is not None:
            self.api.stop()
        for worker in self.workers:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGCONT)
            worker.stop(signal.SIGKILL)
        if self.listener is not None:
            self.listener.stop(signal.SIGKILL)
        if self.hub is not None:
            self.hub.stop(signal.SIGKILL)
        self.db.close()
