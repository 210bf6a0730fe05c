"""What the actor processes of the integration tests share: spawn with a log file, stop."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


class ActorProcess:
    """One actor run as `python -m module`, its output appended to log_path."""

    #: Seconds stop() waits for the process to end by default.
    stop_timeout = 15.0

    def __init__(self, log_path: Path, env: dict[str, str], prefix: Sequence[str] = ()) -> None:
        self.log_path = log_path
        self.env = env
        #: Words run before python, e.g. ("ip", "netns", "exec", NAME) for another host.
        self.prefix = list(prefix)
        self.proc: subprocess.Popen | None = None

    def spawn(self, module: str, *args: str) -> None:
        """Start `[prefix] python -m module args` with self.env, output to the log file.

        The child runs in the log file's directory, not the checkout: an actor's relative
        defaults (`.enodo/hub/token`, `.enodo/worker`) must not find what `make run` keeps in
        the checkout's .enodo, or a test's worker would handshake with that stack's token.
        """
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", module, *args], env=self.env, stdout=log,
                stderr=log, cwd=self.log_path.parent,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float | None = None) -> int:
        """Send sig and wait for the process to end; return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(self.stop_timeout if timeout is None else timeout)
