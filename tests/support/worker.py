"""Real worker processes pointed at a real hub, for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.hub import token_env


class WorkerProcess:
    """enodo-worker connected to a HubProcess's ports and a SiriDB."""

    def __init__(self, tmp: Path, hub_ports: dict[str, int], siridb_port: int, index: int,
                 database: str = "dbtest", extra: dict[str, str] | None = None) -> None:
        self.env = dict(os.environ)
        self.env.update(
            ENODO_WORKER_CONTROL_PORT=str(hub_ports["control"]),
            ENODO_WORKER_JOBS_PORT=str(hub_ports["jobs"]),
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
        self.log_path = tmp / f"worker-{index}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        """Start the worker (readiness: the hub lists it online)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actors.worker.main", "--id", str(self.index)],
            env=self.env, stdout=log, stderr=log,
        )
        log.close()
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send sig and wait for the process to end; return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)
