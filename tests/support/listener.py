"""A real listener process for integration tests."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.hub import token_env
from tests.support.process import ActorProcess
from tests.support.waiting import free_port


class ListenerProcess(ActorProcess):
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
            ENODO_LISTENER_METRICS_PORT="0",  # off unless a test asks
        )
        self.env.update(token_env(f"tcp://127.0.0.1:{control_port}", "LISTENER"))
        self.env.update(extra or {})
        super().__init__(tmp / "listener.log", self.env)

    def start(self) -> ListenerProcess:
        """Start the listener (its readiness is a condition of the test: the hub sees it)."""
        self.spawn("actors.listener.main")
        return self
