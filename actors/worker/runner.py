"""The model child: a persistent spawned process that runs whole jobs, and its parent-side handle.

The child imports numpy, statsmodels and Prophet once, says ("ready", models), then serves
("job", kind, body) requests one at a time, answering ("done", job_id, outcome) with
outcome {"ok": True, "result": ...} or {"ok": False, "error": ..., "retry": ...}. The parent
polls the pipe's fd in its zmq.Poller; it kills a run past its deadline and starts a fresh
child, and treats an unexpected end of the pipe as a crash.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import zmq

from actors.common.backoff import Backoff
from actors.worker.config import SiriDBSettings

log = logging.getLogger(__name__)

RESTART_MIN = 0.5
RESTART_MAX = 30.0
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
#: Seconds between checks that the parent lives, where prctl is not available.
PARENT_CHECK = 0.2


@dataclass(frozen=True)
class ChildConfig:
    """What the child needs to run jobs (picklable)."""

    reader: SiriDBSettings
    writer: SiriDBSettings
    chunk_points: int
    siridb_timeout: float
    log_level: str = "INFO"


def child_main(conn: Connection, config: ChildConfig) -> None:
    """Entry point of the model child: warm imports, then serve jobs until the pipe closes."""
    # The parent decides when the child ends (SIGTERM to the group must not kill a fit), and
    # a group of its own lets the parent kill it with what it started (Prophet's cmdstan).
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    from actors.common.logs import setup_logging

    setup_logging(config.log_level, "enodo-worker-child")
    import numpy  # noqa: F401 - warm import
    import statsmodels.tsa.statespace.sarimax  # noqa: F401 - warm import

    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "Importing plotly failed"
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    import prophet  # noqa: F401 - warm import

    logging.getLogger("prophet").setLevel(logging.WARNING)
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)

    from actors.worker.job_errors import JobError
    from actors.worker.jobs import JobRunner
    from actors.worker.models import registry
    from actors.worker.siridb_io import SiriDB

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    reader = SiriDB(config.reader, config.siridb_timeout)
    writer = reader if config.writer == config.reader else SiriDB(config.writer,
                                                                   config.siridb_timeout)
    jobs = JobRunner(reader, writer, config.chunk_points)
    conn.send(("ready", sorted(registry.MODELS), os.getpid()))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        _, kind, body = request
        try:
            result = loop.run_until_complete(jobs.run(kind, body))
            # model_seconds stays between child and worker (a metric), outside the result.
            outcome: dict[str, Any] = {"ok": True, "result": result,
                                       "model_seconds": jobs.model_seconds}
        except JobError as exc:
            outcome = {"ok": False, "error": exc.message, "retry": exc.retry}
        try:
            conn.send(("done", body.get("job_id"), outcome))
        except (BrokenPipeError, OSError):
            break
    reader.close()
    writer.close()
    loop.run_until_complete(asyncio.sleep(0))  # let the closed connections' tasks end
    loop.close()


def die_with_parent() -> None:
    """End this process the moment its parent (the worker) ends, however it ends.

    Its own process group shields the child from signals meant for the worker, so a worker
    killed with SIGKILL would leave it running the job on: writing outputs to SiriDB while
    the hub hands the same job to another worker (duplicate anomalies, a stale forecast
    written over a fresh one). Linux kills it with the parent; elsewhere a thread watches.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
            if os.getppid() != parent:  # the parent ended before prctl took effect
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch",
                     daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)  # a thread of its own: sleeping blocks nothing else
    os.killpg(os.getpgrp(), signal.SIGKILL)


@dataclass
class RunningJob:
    """The job the child holds, and its time limit."""

    job_id: str
    kind: str
    body: dict[str, Any]
    max_duration: float
    sent: bool = False
    deadline: float | None = None
    started: float = field(default=0.0)


@dataclass(frozen=True)
class RunnerEvent:
    """What happened in the child: ready, done, timeout or crashed."""

    kind: str
    job: RunningJob | None = None
    outcome: dict[str, Any] | None = None


class ModelRunner:
    """Parent-side handle of the model child, polled in the worker's zmq.Poller."""

    def __init__(
        self, config: ChildConfig, poller: zmq.Poller, start_timeout: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        target: Callable[[Connection, ChildConfig], None] = child_main,
    ) -> None:
        self.config = config
        self.poller = poller
        self.start_timeout = start_timeout
        self.clock = clock
        self.target = target
        self.ctx = multiprocessing.get_context("spawn")
        self.process: Any = None
        self.conn: Connection | None = None
        self.fd: int | None = None
        self.ready = False
        self.models: list[str] = []
        self.job: RunningJob | None = None
        self._start_deadline = 0.0
        self._restart_at: float | None = None
        self._restarts = Backoff(RESTART_MIN, RESTART_MAX)

    @property
    def busy(self) -> bool:
        """True while a job is assigned to the child."""
        return self.job is not None

    def start(self) -> None:
        """Spawn a fresh child (warm-up runs in the child; ready arrives on the pipe)."""
        parent, child = self.ctx.Pipe(duplex=True)
        self.process = self.ctx.Process(
            target=self.target, args=(child, self.config), name="enodo-model", daemon=True
        )
        self.process.start()
        child.close()
        self.conn, self.fd = parent, parent.fileno()
        self.poller.register(self.fd, zmq.POLLIN)
        self.ready = False
        self._restart_at = None
        self._start_deadline = self.clock() + self.start_timeout
        log.info("model child %d starting", self.process.pid)

    def submit(self, kind: str, body: dict[str, Any], max_duration: float) -> None:
        """Hand a job to the child; its time limit starts once the child is ready."""
        self.job = RunningJob(str(body["job_id"]), kind, body, max_duration)
        if self.conn is not None:
            self._send_job()

    def _send_job(self) -> None:
        job = self.job
        if job is None or self.conn is None or job.sent:
            return
        self.conn.send(("job", job.kind, job.body))
        job.sent = True
        if self.ready:
            self._start_clock(job)

    def _start_clock(self, job: RunningJob) -> None:
        job.started = self.clock()
        job.deadline = job.started + job.max_duration

    def on_readable(self) -> list[RunnerEvent]:
        """Read what the child sent; a closed pipe means it died."""
        events: list[RunnerEvent] = []
        while self.conn is not None:
            try:
                if not self.conn.poll():
                    break
                message = self.conn.recv()
            except (EOFError, OSError):
                events.append(self._crashed())
                break
            if message[0] == "ready":
                self.ready, self.models = True, list(message[1])
                self._restarts.reset()
                log.info("model child %d ready (models: %s)", message[2], ", ".join(self.models))
                if self.job is not None and self.job.sent and self.job.deadline is None:
                    self._start_clock(self.job)
                events.append(RunnerEvent("ready"))
            elif message[0] == "done":
                job = self.job
                if job is None or job.job_id != message[1]:
                    log.warning("child finished job %r that is not current", message[1])
                    continue
                self.job = None
                events.append(RunnerEvent("done", job, message[2]))
        return events

    def due(self) -> tuple[float | None, list[RunnerEvent]]:
        """Act on deadlines (job limit, start-up, restart); return the next one and events."""
        now = self.clock()
        events: list[RunnerEvent] = []
        job = self.job
        if job is not None and job.deadline is not None and now >= job.deadline:
            log.warning("job %s exceeded %.1f s: killing the model child", job.job_id,
                        job.max_duration)
            self.job = None
            self._kill()
            self._schedule_restart(immediately=True)
            events.append(RunnerEvent("timeout", job))
        elif self.conn is not None and not self.ready and now >= self._start_deadline:
            log.error("model child not ready after %.0f s: restarting it", self.start_timeout)
            crashed = self._crashed()
            events.append(crashed)
        if self._restart_at is not None and self.clock() >= self._restart_at:
            self.start()
            if self.job is not None:
                self._send_job()
        deadlines = [self._restart_at]
        if self.job is not None:
            deadlines.append(self.job.deadline)
        if self.conn is not None and not self.ready:
            deadlines.append(self._start_deadline)
        return min((d for d in deadlines if d is not None), default=None), events

    def _crashed(self) -> RunnerEvent:
        code = self._kill()
        job, self.job = self.job, None
        log.error("model child ended unexpectedly (exit code %s)%s", code,
                  f" running job {job.job_id}" if job else "")
        self._schedule_restart(immediately=False)
        return RunnerEvent("crashed", job, {"exitcode": code})

    def _schedule_restart(self, immediately: bool) -> None:
        delay = 0.0 if immediately else self._restarts.next()
        self._restart_at = self.clock() + delay

    def _kill(self, grace: float = 0.0) -> int | None:
        if self.fd is not None:
            self.poller.unregister(self.fd)
        if self.conn is not None:
            self.conn.close()
        self.conn, self.fd, self.ready = None, None, False
        process, self.process = self.process, None
        if process is None:
            return None
        if grace > 0:
            process.join(grace)
        if process.is_alive():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                process.kill()
        process.join(5.0)
        return process.exitcode

    def stop(self, grace: float = 2.0) -> None:
        """End the child: close its pipe (it exits when idle), then kill it after grace."""
        self._restart_at = None
        self._kill(grace)
