"""A real Prometheus server for tests: loopback, a generated scrape config, temp storage.

It is the test's own process (never the system service the Debian package may start), on a
free port, scraping every second the targets it is given.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import free_port, wait_for

INSTALL_HINT = "apt-get install prometheus (Debian's package; .ci/run installs it as root)"


def prometheus_binary() -> str:
    """The prometheus executable; skip the test when absent, unless root (then CI failed)."""
    path = shutil.which("prometheus")
    if path:
        return path
    if os.geteuid() != 0:
        pytest.skip(f"no prometheus binary on PATH: {INSTALL_HINT}")
    pytest.fail(f"no prometheus binary, though running as root: {INSTALL_HINT}")


def scrape_config(targets: dict[str, str], interval: str = "1s") -> str:
    """A prometheus.yml with one job per target (job name -> host:port)."""
    jobs = [{"job_name": name, "static_configs": [{"targets": [address]}]}
            for name, address in targets.items()]
    config = {"global": {"scrape_interval": interval, "evaluation_interval": interval},
              "scrape_configs": jobs}
    return json.dumps(config, indent=2)  # JSON is YAML


class Prometheus:
    """prometheus on 127.0.0.1:<free port> with its storage under tmp."""

    def __init__(self, tmp: Path, targets: dict[str, str]) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.config = tmp / "prometheus.yml"
        self.config.write_text(scrape_config(targets), encoding="utf-8")
        self.log_path = tmp / "prometheus.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> Prometheus:
        """Start it and wait until /-/ready answers."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([
                prometheus_binary(), f"--config.file={self.config}",
                f"--storage.tsdb.path={self.tmp / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn",
            ], stdout=log, stderr=log)

        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, \
                f"prometheus exited: {self.log_path.read_text()[-2000:]}"
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200

        wait_for(ready, timeout, "Prometheus to be ready")
        return self

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The vector /api/v1/query returns for expr now."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=5) as reply:
            body = json.load(reply)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def value(self, expr: str) -> float | None:
        """The single value of expr (None while there is no sample)."""
        result = self.query(expr)
        assert len(result) <= 1, f"{expr} matches {len(result)} series: {result}"
        return float(result[0]["value"][1]) if result else None

    def wait_value(self, expr: str, expected: float, timeout: float = 60.0) -> None:
        """Wait until expr's value is expected (scrapes come every second)."""
        self.wait_until(expr, lambda value: value == expected, f"== {expected}", timeout)

    def wait_until(self, expr: str, check: Callable[[float], bool], what: str,
                   timeout: float = 60.0) -> None:
        """Wait until check(expr's value) holds: the last scrape may predate what happened."""
        seen: list[float | None] = []

        def holds() -> bool:
            seen.append(self.value(expr))
            return seen[-1] is not None and check(seen[-1])

        try:
            wait_for(holds, timeout, f"{expr} {what}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last value {seen[-1] if seen else None}") from None

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
