"""A real Prometheus Alertmanager for tests: loopback, temp config and storage, no cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import free_port, wait_for

INSTALL_HINT = ("apt-get install prometheus-alertmanager (Debian's package; `make system-deps` "
                "installs it as root)")
#: Receives nothing: the tests read what Alertmanager holds from its API.
CONFIG = {"route": {"receiver": "null", "group_wait": "1s", "group_interval": "1s"},
          "receivers": [{"name": "null"}]}


def alertmanager_binary() -> str:
    """The alertmanager executable; skip the test when absent, unless root (then CI failed)."""
    for name in ("prometheus-alertmanager", "alertmanager"):
        path = shutil.which(name)
        if path:
            return path
    if os.geteuid() != 0:
        pytest.skip(f"no prometheus-alertmanager binary on PATH: {INSTALL_HINT}")
    pytest.fail(f"no prometheus-alertmanager binary, though running as root: {INSTALL_HINT}")


class Alertmanager:
    """alertmanager on 127.0.0.1:<free port> with its storage under tmp."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = tmp / "alertmanager.yml"
        self.config.write_text(json.dumps(CONFIG), encoding="utf-8")  # JSON is YAML
        self.log_path = tmp / "alertmanager.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> Alertmanager:
        """Start it and wait until /-/ready answers."""
        binary = alertmanager_binary()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([
                binary, f"--config.file={self.config}", f"--storage.path={self.tmp / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
            ], stdout=log, stderr=log)

        def ready() -> bool:
            assert self.proc.poll() is None, self.log_path.read_text()[-2000:]
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as answer:
                return answer.status == 200

        wait_for(ready, timeout, "alertmanager to be ready")
        return self

    def alerts(self) -> list[dict[str, Any]]:
        """What GET /api/v2/alerts lists (the alerts not resolved)."""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=2) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        """Stop it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
