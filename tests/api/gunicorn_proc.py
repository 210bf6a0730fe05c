"""Run the API under real gunicorn in a subprocess; used by test_gunicorn and the bench."""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import ujson

from tests.support.hub import token_env

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "configs" / "gunicorn.conf.py"
LISTENING = re.compile(r"Listening at: http://([\d.]+):(\d+)")


class Gunicorn:
    """gunicorn serving `app` (e.g. api.wsgi:app) on a free loopback port."""

    def __init__(self, app: str, env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.app = app
        self.env = {
            **os.environ,
            "ENODO_API_BIND": "127.0.0.1:0",
            "ENODO_API_WORKERS": str(workers),
            "ENODO_API_METRICS_BIND": "off",  # unless a test asks (tests/support/stack.py)
            **(env or {}),
        }
        # The token of the hub at ENODO_API_HUB_ADDRESS (a HubProcess), unless given.
        for key, value in token_env(self.env.get("ENODO_API_HUB_ADDRESS", ""), "API").items():
            self.env.setdefault(key, value)
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.log: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self, timeout: float = 20.0) -> Gunicorn:
        """Start gunicorn; return when it listens and a worker answers HTTP."""
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), self.app]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self.port:
            line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line is None:
                raise RuntimeError("gunicorn exited:\n" + "".join(self.log))
            match = LISTENING.search(line)
            if match:
                self.port = int(match.group(2))
        # The master listens before its workers run: a request waits in the backlog
        # until a worker takes it, so this blocks (bounded) rather than spins.
        while True:
            try:
                self.request("GET", "/__ready__", timeout=2.0)
                return self
            except (OSError, http.client.HTTPException):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn not serving:\n" + "".join(self.log)) from None

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """Make one HTTP request; return (status, headers, decoded JSON body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else ujson.dumps(body)
            sent = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers={**sent, **(headers or {})})
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, ujson.loads(raw)
        finally:
            conn.close()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM gunicorn and wait; SIGKILL when it does not stop in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
