"""The worker's poll loop: control channel (jobs in), results out, the model child's pipe.

One zmq.Poller watches the control DEALER (the peer session of actors/common/session_poll.py,
which also brings the jobs, each MACed under the session's key), the model child's pipe and
a signal wake-up pipe. Each turn handles what is readable, then what is due (heartbeats,
reconnects, the job's time limit). The worker holds up to `job_credit` jobs (its HANDSHAKE
capacity): one runs in the child, the others wait ready and start the moment it ends.
SIGTERM is a flag: stop taking jobs, hand back the ready ones, finish or hand back the
current one within `shutdown_grace`, say SHUTDOWN, close.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zmq

from actors.common.peer_session import hello_body
from actors.common.session_poll import PollSession
from actors.worker.job_errors import JobError, job_settings, precheck
from actors.worker.runner import ModelRunner, RunnerEvent, RunningJob
from actors.worker.telemetry import WorkerMetrics
from protocol.curve import CurveClient
from protocol.envelope import Codec, Message
from protocol.errors import ProtocolError, TransportError
from protocol.jobs import JOB_TYPES, JobKind
from protocol.transport import Channel, connect, make_socket, poll
from protocol.types import MessageType

log = logging.getLogger(__name__)

#: How long the last messages (results, SHUTDOWN) may take to leave at exit.
FLUSH_LINGER_MS = 500


@dataclass(frozen=True)
class WorkerSettings:
    """The loop's settings, from the [worker] config section."""

    worker_id: str
    version: str
    addresses: dict[str, str]
    token: str | Callable[[], str] = ""  # a callable is asked at each handshake
    heartbeat_interval: float = 1.0
    liveness: int = 3
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    shutdown_grace: float = 10.0
    #: Jobs held at once (the HANDSHAKE's capacity): one running, the others ready to start.
    job_credit: int = 2
    curve: CurveClient | None = None


class Worker:
    """Owns the worker's sockets and runs its loop until stopped."""

    def __init__(
        self, settings: WorkerSettings, codec: Codec, runner_factory: Callable[
            [zmq.Poller], ModelRunner], ctx: zmq.Context | None = None,
        clock: Callable[[], float] = time.monotonic,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = metrics or WorkerMetrics()
        self.ctx = ctx or zmq.Context()
        self.poller = zmq.Poller()
        max_size = codec.max_size
        curve = settings.curve
        self.results = Channel(make_socket(self.ctx, zmq.PUSH, max_size, curve=curve), codec)
        connect(self.results.socket, settings.addresses["results"])
        # Keyed: each handshake agrees a session key (protocol/session.py); jobs arrive on
        # this socket with its MAC, and the worker's JOB_* messages carry one.
        self.link = PollSession(
            self.ctx, settings.addresses["control"], codec, self.poller, self._hello,
            keyed=True, proven=JOB_TYPES, heartbeat_interval=settings.heartbeat_interval,
            liveness=settings.liveness, reconnect_min=settings.reconnect_min,
            reconnect_max=settings.reconnect_max, clock=clock, curve=curve,
            on_message=self._on_hub_message, on_ready=self._send_held, on_lost=self._drop_ready,
        )
        self.link.status = {"busy": False, "job_id": None}
        # JOB_* messages wait here while no session is up: each is MACed under the key of
        # the session it is sent in, which the hub checks against the job's worker.
        self._held: list[tuple[MessageType, dict[str, Any]]] = []
        self.runner = runner_factory(self.poller)
        # Jobs accepted while another runs (credit beyond the running one): (kind, body, limit).
        self._ready: deque[tuple[JobKind, dict[str, Any], float]] = deque()
        self.stopping = False
        self._stop_deadline = 0.0
        self._linked = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.poller.register(self._wake_r, zmq.POLLIN)

    @property
    def wakeup_fd(self) -> int:
        """Write end of the wake-up pipe, for signal.set_wakeup_fd."""
        return self._wake_w

    def stop(self) -> None:
        """Begin a graceful stop (safe from a signal handler); a second call hurries it."""
        if self.stopping:
            self._stop_deadline = self.clock()
        else:
            self.stopping = True
            self._stop_deadline = self.clock() + self.settings.shutdown_grace

    def _hello(self) -> dict[str, Any]:
        token = self.settings.token
        return hello_body(self.settings.worker_id, "worker", self.settings.version,
                          token() if callable(token) else token,
                          capacity=self.settings.job_credit, models=list(self.runner.models))

    def run(self) -> None:
        """Serve until stopped; then hand back, say SHUTDOWN and close."""
        self.runner.start()
        announced_stop = False
        while True:
            deadline = self._due()
            if self.stopping and not announced_stop:
                log.info("stopping: no more jobs; %s", "finishing the current one"
                         if self.runner.busy else "idle")
                announced_stop = True
                self._hand_back_ready()
            if self.stopping and (not self.runner.busy or self.clock() >= self._stop_deadline):
                break
            if self.stopping:
                deadline = min(deadline, self._stop_deadline)
            timeout = max(0.0, deadline - self.clock())
            ready = poll(self.poller, timeout)
            self._read(ready)
        self._shutdown()

    def _read(self, ready: dict) -> None:
        if self._wake_r in ready:
            try:
                os.read(self._wake_r, 4096)
            except BlockingIOError:
                pass
        if self.link.socket is not None and self.link.socket in ready:
            self.link.on_readable()
        if self.runner.fd is not None and self.runner.fd in ready:
            for event in self.runner.on_readable():
                self._on_runner(event)

    def _due(self) -> float:
        deadlines = [self.clock() + 1.0]
        runner_due, events = self.runner.due()
        for event in events:
            self._on_runner(event)
        if runner_due is not None:
            deadlines.append(runner_due)
        # The first handshake (and the first job) waits for the child's model list: jobs go to
        # a warm child, not to one still importing Prophet.
        if not self._linked and self.runner.models and not self.stopping:
            self._linked = True
            self.link.start()
        if self._linked:
            deadlines.append(self.link.due())
        return min(deadlines)

    # jobs -------------------------------------------------------------------
    def _on_hub_message(self, msg: Message) -> None:
        if msg.type in JOB_TYPES:  # proven by the session: MACed under its key
            self._on_job(msg)
        elif msg.type is MessageType.ERROR:
            log.warning("hub answered an error: %s: %s", msg.body["code"], msg.body["message"])
        else:
            log.warning("unexpected %s on the control channel", msg.type.value)

    def _on_job(self, msg: Message) -> None:
        body = msg.body
        job_id = body.get("job_id", "")
        try:
            kind = JobKind.of(msg.type)
        except KeyError:
            log.warning("unexpected %s on the jobs socket", msg.type.value)
            return
        if self.stopping or self._held_jobs() >= self.settings.job_credit:
            reason = "shutdown" if self.stopping else "busy"
            log.info("refusing job %s (%s)", job_id, reason)
            self._result(MessageType.JOB_REFUSED, {"job_id": job_id, "reason": reason})
            return
        self._result(MessageType.JOB_ACCEPTED, {"job_id": job_id})
        problem = precheck(kind, body)
        if problem is not None:
            self._failed(job_id, problem.message, problem.retry)
            return
        try:
            limit = job_settings(body).max_job_duration
        except JobError as exc:
            self._failed(job_id, exc.message, exc.retry)
            return
        self._ready.append((kind, dict(body), float(limit)))
        self._start_next()

    def _held_jobs(self) -> int:
        return len(self._ready) + (1 if self.runner.busy else 0)

    def _start_next(self) -> None:
        """Start the oldest ready job when the model child is free."""
        if self.runner.busy or not self._ready:
            return
        kind, body, limit = self._ready.popleft()
        log.info("job %s: %s %r (model %s, attempt %s)", body["job_id"], kind, body["series"],
                 body["model"], body["attempt"])
        self.runner.submit(kind, body, limit)
        self._set_busy(body["job_id"])

    def _hand_back_ready(self) -> None:
        """Stopping: jobs not started go back to the hub at once, for another worker."""
        while self._ready:
            job_id = self._ready.popleft()[1]["job_id"]
            log.info("handing back job %s (not started)", job_id)
            self._result(MessageType.JOB_REFUSED, {"job_id": job_id, "reason": "shutdown"})

    def _drop_ready(self) -> None:
        """The session ended: jobs not started go back to the hub's queue, not run here.

        The hub re-queues what a departed session held (or, restarted, what nobody
        claims), so running them now would only write outputs a second run writes too.
        """
        if self._ready:
            log.info("session ended: %d ready job(s) left to the hub", len(self._ready))
            self._ready.clear()

    def _on_runner(self, event: RunnerEvent) -> None:
        job = event.job
        if event.kind == "ready":
            return
        if job is None:
            return
        self._count_end(job, event)
        if event.kind == "done" and event.outcome is not None:
            outcome = event.outcome
            if outcome["ok"]:
                log.info("job %s done in %.2f s", job.job_id, self.clock() - job.started)
                self._result(MessageType.JOB_RESULT,
                             {"job_id": job.job_id, "result": outcome["result"]})
            else:
                self._failed(job.job_id, outcome["error"], bool(outcome["retry"]))
        elif event.kind == "timeout":
            limit = f"{job.max_duration:g}"
            self._failed(job.job_id, f"exceeded max_job_duration ({limit} s)", False)
        elif event.kind == "crashed":
            code = (event.outcome or {}).get("exitcode")
            self._failed(job.job_id, f"model process died (exit code {code})", True)
        self._set_busy(None)
        if not self.stopping:
            self._start_next()

    def _count_end(self, job: RunningJob, event: RunnerEvent) -> None:
        outcome = event.outcome or {}
        name = event.kind if event.kind != "done" else ("ok" if outcome.get("ok") else "failed")
        seconds = self.clock() - job.started if job.started else None
        model = job.body.get("model")
        # A label per value: only the child's own model names, whatever a job carried.
        model = model if model in self.runner.models else "other"
        self.metrics.job_ended(job.kind, model, name, seconds, outcome.get("model_seconds"))

    def _failed(self, job_id: str, error: str, retry: bool) -> None:
        log.warning("job %s failed (retry %s): %s", job_id, retry, error)
        self._result(MessageType.JOB_FAILED, {"job_id": job_id, "error": error, "retry": retry})

    def _result(self, kind: MessageType, body: dict[str, Any]) -> None:
        body["worker_id"] = self.settings.worker_id
        key = self.link.session_key
        if key is None:
            if kind is not MessageType.JOB_ACCEPTED:  # stale once the session is gone
                self._held = self._held[-7:] + [(kind, body)]
                log.info("holding %s for job %s until the hub session is back", kind.value,
                         body.get("job_id"))
            return
        try:
            self.results.send(Message(kind, body), flags=zmq.NOBLOCK, session_key=key)
        except ProtocolError as exc:
            log.error("cannot send %s for job %s: %s", kind.value, body.get("job_id"), exc)
            if kind is MessageType.JOB_RESULT:
                self._failed(body["job_id"], f"result not sendable: {exc.message}", False)
        except TransportError as exc:
            log.error("cannot send %s for job %s: %s", kind.value, body.get("job_id"), exc)

    def _send_held(self) -> None:
        held, self._held = self._held, []
        for kind, body in held:
            self._result(kind, body)

    def _set_busy(self, job_id: str | None) -> None:
        self.link.status = {"busy": job_id is not None, "job_id": job_id}
        self.metrics.busy.set(1 if job_id is not None else 0)
        self.link.heartbeat_now()

    # shutdown ---------------------------------------------------------------
    def _shutdown(self) -> None:
        job = self.runner.job
        self.runner.stop(grace=0.0 if job is not None else 2.0)
        if job is not None:
            log.warning("handing back job %s", job.job_id)
            self._result(MessageType.JOB_REFUSED, {"job_id": job.job_id, "reason": "shutdown"})
        self._hand_back_ready()
        self.link.goodbye("worker stopping")
        self.results.socket.close(linger=FLUSH_LINGER_MS)
        self.link.close(linger_ms=FLUSH_LINGER_MS)
        log.info("worker %s stopped", self.settings.worker_id)

    def close_wakeup(self) -> None:
        """Close the wake-up pipe (after signal.set_wakeup_fd(-1))."""
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
