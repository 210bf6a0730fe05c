"""DevServer: run the development server as a real subprocess for tests and demos.

    with DevServer(dbname='dbtest') as srv:
        client = SiriDBClient('iris', 'siri', 'dbtest', [(srv.host, srv.port)])
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_PREFIX = 'READY port='


class DevServerError(RuntimeError):
    """The server did not start (the message holds the end of its log)."""


class DevServer:
    """A development server process on a free loopback port.

    `storage` is 'memory' or a path to an SQLite file; `dbname=None` starts without a
    database (create one with a SERVICE request).  `restart()` keeps the port and the
    storage, so a file-backed server comes back with its points.
    """

    def __init__(self, dbname: str | None = 'dbtest', *, time_precision: str = 'ms',
                 user: str = 'iris', password: str = 'siri', storage: str = 'memory',
                 tee: str | None = None, unix_socket: str | None = None,
                 host: str = '127.0.0.1', port: int = 0, startup_timeout: float = 15.0,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.unix_socket = unix_socket
        self._options = [
            '--dbname', dbname or '', '--time-precision', time_precision, '--user', user,
            '--password', password, '--storage', storage, *extra_args]
        if tee:
            self._options += ['--tee', tee]
        if unix_socket:
            self._options += ['--unix-socket', unix_socket]
        self.proc: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self.log_path = ''

    def command(self) -> list[str]:
        """The command line that starts the server."""
        return [sys.executable, '-m', 'scripts.siridb_dev.main', '--host', self.host,
                '--port', str(self.port), *self._options]

    def start(self) -> DevServer:
        """Start the process and wait (bounded) for its READY line."""
        if self._log is None:
            self._log = tempfile.NamedTemporaryFile(
                'w+', prefix='siridb-dev-', suffix='.log', delete=False)
            self.log_path = self._log.name
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._log, text=True,
            cwd=REPO_ROOT, env=env)
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        threading.Thread(target=_pump, args=(stdout, lines), daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise DevServerError(f'no READY line within {self.startup_timeout} s\n'
                                     + self.log_tail())
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line.startswith(READY_PREFIX):
                self.port = int(line[len(READY_PREFIX):])
                return self
            if line == '':
                self.stop()
                raise DevServerError('server exited before READY\n' + self.log_tail())

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait (bounded), SIGKILL if needed; returns the exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def restart(self) -> DevServer:
        """Stop and start again on the same port with the same storage."""
        self.stop()
        return self.start()

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (stderr)."""
        if not self.log_path:
            return ''
        return Path(self.log_path).read_text(errors='replace')[-chars:]

    def close(self) -> None:
        """Stop the server and remove its log file."""
        self.stop()
        if self._log is not None:
            self._log.close()
            Path(self.log_path).unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _pump(stream: IO[str] | None, lines: queue.Queue[str]) -> None:
    if stream is None:
        lines.put('')
        return
    for line in stream:
        lines.put(line.strip())
    lines.put('')
