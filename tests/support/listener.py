"""A real listener process for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.hub import token_env
from tests.support.waiting import free_port


class ListenerProcess:
    """enodo-listener with its tee on a random loopback port, pointed at a hub."""

    def __init__(self, tmp: Path, control_port: int, extra: dict[str, str] | None = None) -> None:
        self.tee_port = free_port()
        self.env = dict(os.environ)
        self.env.update(
            ENODO_LISTENER_CONTROL_PORT=str(control_port),
            ENODO_LISTENER_TEE_PORT=str(self.tee_port),
            ENODO_LISTENER_UPDATE_INTERVAL="0.1",
            ENODO_LISTENER_CLIENT_ID="listener-test",
            ENODO_LISTENER_LOG_LEVEL="DEBUG",
        )
        self.env.update(token_env(f"tcp://127.0.0.1:{control_port}", "LISTENER"))
        self.env.update(extra or {})
        self.log_path = tmp / "listener.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ListenerProcess:
        """Start the listener (its readiness is a condition of the test: the hub sees it)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actors.listener.main"], env=self.env, stdout=log, stderr=log
        )
        log.close()
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send sig and wait for the process to end; return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)
