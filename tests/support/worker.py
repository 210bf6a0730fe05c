"""Real worker processes pointed at a real hub, for integration tests."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.hub import token_env
from tests.support.process import ActorProcess


class WorkerProcess(ActorProcess):
    """enodo-worker connected to a HubProcess's ports and a SiriDB."""

    stop_timeout = 20.0

    def __init__(self, tmp: Path, hub_ports: dict[str, int], siridb_port: int, index: int,
                 database: str = "dbtest", extra: dict[str, str] | None = None) -> None:
        self.env = dict(os.environ)
        self.env.update(
            ENODO_WORKER_CONTROL_PORT=str(hub_ports["control"]),
            ENODO_WORKER_RESULTS_PORT=str(hub_ports["results"]),
            ENODO_WORKER_STATE_DIR=str(tmp / "worker-state"),
            ENODO_WORKER_WORKER_ID="test-worker",
            ENODO_WORKER_LOG_LEVEL="DEBUG",
            ENODO_SIRIDB_PORT=str(siridb_port),
            ENODO_SIRIDB_DATABASE=database,
        )
        self.env.update(token_env(f"tcp://127.0.0.1:{hub_ports['control']}", "WORKER"))
        self.env.update(extra or {})
        self.index = index
        self.worker_id = f"{self.env['ENODO_WORKER_WORKER_ID']}-{index}"
        super().__init__(tmp / f"worker-{index}.log", self.env)

    def start(self) -> WorkerProcess:
        """Start the worker (readiness: the hub lists it online)."""
        self.spawn("actors.worker.main", "--id", str(self.index))
        return self
