"""Turns series state into jobs, sends them to idle workers, keeps leases, stores results."""

from __future__ import annotations

import heapq
import logging
from typing import TYPE_CHECKING, Any

from actors.hub.job_book import LEASE_GRACE, JobBook
from actors.hub.jobs import Job, backoff, next_kind
from actors.hub.peers import Peer
from actors.hub.results import apply_result
from actors.hub.rules import add_to_job
from actors.hub.series import Series
from protocol.envelope import Message
from protocol.errors import ProtocolError, TransportError
from protocol.jobs import JOB_SETTINGS, JobKind, JobStatus, OutputKind, SeriesJobState
from protocol.session import verify
from protocol.types import ClientType, MessageType

if TYPE_CHECKING:  # the state owns its scheduler
    from actors.hub.state import HubState

log = logging.getLogger(__name__)

#: Seconds a job sent may wait for its JOB_ACCEPTED before it is sent again.
ACCEPT_TIMEOUT = 10.0
RESULT_TYPES = frozenset({MessageType.JOB_ACCEPTED, MessageType.JOB_REFUSED,
                          MessageType.JOB_RESULT, MessageType.JOB_FAILED})


class Scheduler(JobBook):
    """One active job per series; jobs go out only while a worker is known to be idle.

    The hub's state makes one and calls it when a series is added or gets points
    (`consider`), a peer leaves (`on_peer_dropped`) and a turn ends (`flush`); the server's
    loop calls `dispatch`, `expire_leases` and `on_result`. Jobs go out through the state's
    outbox, sent by the server after the turn's commit like every other message.
    """

    def __init__(self, state: HubState) -> None:
        super().__init__(state)
        self.restore()

    # deciding -------------------------------------------------------------
    def consider(self, series: Series) -> None:
        """Queue the job the series needs, unless it already has one."""
        if series.name in self.active:
            return
        kind = next_kind(series, self.state.settings, self.state.wall())
        if kind is not None:
            self._queue(series, kind)

    def request(self, series: Series, kind: str) -> None:
        """An operator asks for a job now: it runs next (after the current one, if any)."""
        series.requested = kind
        self.state.series.touch(series.name)
        self.consider(series)

    def _queue(self, series: Series, kind: str) -> None:
        if series.requested == kind:
            series.requested = None
        job = Job.new(series.name, kind, self.state.wall())
        self.active[series.name] = job
        self.ready.append(series.name)
        self._set_job_state(job, SeriesJobState.QUEUED)

    # dispatching ----------------------------------------------------------
    def idle_capacity(self) -> int:
        """Jobs the known workers can take now."""
        return sum(max(0, w.free(self.by_job_id)) for w in self._workers())

    def _workers(self) -> list[Peer]:
        # Only workers with a session key: a job goes to one that can prove its results.
        return [w for w in self.state.peers.of_type(ClientType.WORKER) if w.session_key]

    def dispatch(self, now: float) -> None:
        """Send ready jobs to idle workers, each to one worker over its control session."""
        if self.adoptable:
            self._adopt_reported(now)
        while self.delayed and self.delayed[0][0] <= now:
            _, name, uid = heapq.heappop(self.delayed)
            self.adoptable.pop(uid, None)
            self.held_by.pop(uid, None)
            job = self.active.get(name)
            if job is not None and job.uid == uid and job.status is JobStatus.QUEUED:
                self.ready.append(name)
        if not self.ready:
            return
        idle = [w for w in self._workers() if w.free(self.by_job_id) > 0]
        while idle and self.ready:
            worker = min(idle, key=lambda w: len(w.busy_jobs))  # the least loaded first
            name = self.ready.popleft()
            job = self.active.get(name)
            if job is None or job.status is not JobStatus.QUEUED:
                continue
            self._send_job(job, worker, now)
            if worker.free(self.by_job_id) <= 0:
                idle.remove(worker)

    def _send_job(self, job: Job, worker: Peer, now: float) -> None:
        series = self.state.series.get(job.series)
        if series is None:
            self._forget(job)
            return
        settings = {k: self.state.settings[k] for k in JOB_SETTINGS}
        context: dict[str, Any] = {}
        if job.kind is JobKind.FORECAST:
            context["previous_forecast"] = self.state.store.get_output(
                job.series, OutputKind.FORECAST)
            context["detector"] = self.state.store.get_output(job.series, OutputKind.DETECTOR)
            settings["anomaly"] = series.anomaly
        add_to_job(series, job.kind, settings, context)
        job.dispatches += 1
        body = {
            "job_id": job.job_id, "series": job.series, "model": series.model,
            "model_parameters": series.model_parameters,
            "state": None if job.kind is JobKind.TRAIN else self.state.store.get_model(job.series),
            "settings": settings, "attempt": job.attempt, "context": context,
        }
        job_id = job.job_id
        # Addressed to this worker's connection and MACed under its session key: no other
        # socket receives it, and the worker knows it comes from the hub it handshook with.
        # Sent after the turn's commit, which records where it went.
        self.state.outbox.send(
            worker.identity, Message(job.kind.message_type, body), worker.session_key,
            on_lost=lambda exc: self._lost(job, job_id, worker, exc))
        job.status, job.lease_until, job.sent_at = JobStatus.DISPATCHED, now + ACCEPT_TIMEOUT, now
        job.worker = worker.client_id
        job.points_mark, job.counted_mark = series.points, series.points_counted
        self.by_job_id[job_id] = job
        self._mark_worker(job.worker, job, busy=True)
        self._set_job_state(job, SeriesJobState.QUEUED)

    def _lost(self, job: Job, job_id: str, worker: Peer,
              exc: TransportError | ProtocolError) -> None:
        """The server could not send this dispatch (told after the turn's commit)."""
        if self.by_job_id.get(job_id) is not job:
            return  # nothing ends a dispatch between the turn and its sends; if it did
        if isinstance(exc, ProtocolError):
            self._fail(job, f"job could not be sent: {exc.message}", retry=False)
            return
        # The worker is gone or its pipe is full: the job is sent again (same id: nothing
        # left), to a worker known idle; this one counts busy until its next heartbeat.
        self._requeue(job, front=True)
        job.dispatches -= 1
        if worker.reported_busy is None:
            worker.reported_busy = "?"

    # results --------------------------------------------------------------
    def on_result(self, msg: Message) -> None:
        """Handle JOB_ACCEPTED, JOB_REFUSED, JOB_RESULT and JOB_FAILED from workers.

        Nothing of a message is used before its session MAC is proven under the key of the
        worker it names, and that worker is the one the dispatch went to: a forged or
        misattributed message is dropped (and counted), never fails or finishes a job.
        """
        if msg.type not in RESULT_TYPES:
            self.forged.drop(msg, "not a job message")
            return
        worker, job_id = msg.body["worker_id"], msg.body["job_id"]
        job = self.by_job_id.get(job_id)
        # Who may speak for this dispatch: the worker it went to (or, for a job from before
        # a restart, the worker it was out with then).
        owner = job.worker if job is not None else self._claimant(job_id, msg.type)
        out = (JobStatus.DISPATCHED, JobStatus.RUNNING)
        if owner is None or (job is not None and job.status not in out):
            self.late += 1  # nothing of it is used: no need to prove it first
            log.info("dropped a late %s for job %.64s", msg.type.value, job_id)
            return
        peer = self.state.peers.by_client_id(owner)
        if worker != owner or peer is None or not verify(peer.session_key, msg):
            self.forged.drop(msg, f"no valid session MAC of {owner}, whose job it is")
            return
        if job is None:
            job = self._adopt(job_id, worker)
            if job is None:
                return
        if msg.type is MessageType.JOB_ACCEPTED:
            job.status = JobStatus.RUNNING
            # A worker holding credit (capacity > 1) runs its jobs one after another: a job
            # may wait for each other job the worker holds to use its max_job_duration.
            duration = self.state.settings["max_job_duration"] * max(1, len(peer.busy_jobs))
            job.lease_until = self.state.clock() + duration + LEASE_GRACE
            self._set_job_state(job, SeriesJobState.RUNNING)
        elif msg.type is MessageType.JOB_REFUSED:
            if len(peer.busy_jobs) <= 1 and peer.reported_busy is None:
                # Busy, and neither we nor its heartbeats knew: count it busy until its
                # next heartbeat says what it runs.
                peer.reported_busy = "?"
            self._requeue(job, front=True)
        elif msg.type is MessageType.JOB_RESULT:
            self._finish(job, msg.body["result"])
        elif msg.type is MessageType.JOB_FAILED:
            self._fail(job, msg.body["error"], retry=msg.body.get("retry", True))

    def _finish(self, job: Job, result: dict[str, Any]) -> None:
        series = self.state.series.get(job.series)
        self._forget(job)
        if series is None:
            return
        try:
            apply_result(self.state, series, job, result)
        except (KeyError, TypeError, ValueError) as exc:
            self._record_failure(series, job, f"malformed result: {exc!r}")
            return
        self.done += 1
        self._count_end(job, series, "ok")
        self._set_series_job(series, job, SeriesJobState.DONE, None)
        if job.kind in (JobKind.TRAIN, JobKind.FIT):
            self._queue(series, JobKind.FORECAST)
        else:
            self.consider(series)

    def _fail(self, job: Job, error: str, retry: bool) -> None:
        job.attempt += 1
        job.error = error
        # While the hub cannot reach SiriDB either, a soft failure is the outage's, not the
        # job's: it does not use up max_attempts (the backoff still grows, to 60 s), so the
        # job runs once SiriDB is back instead of failing for good a few seconds into it.
        outage = self.state.siridb.status().get("status") == "failing"
        if retry and (job.attempt < self.state.settings["max_attempts"] or outage):
            log.info("job %s of %r failed (%s); retrying%s", job.kind, job.series, error,
                     " (SiriDB is failing: max_attempts waits)" if outage else "")
            self.state.metrics.retries.labels(job.kind).inc()
            self._requeue(job, delay=backoff(job.attempt))
            return
        series = self.state.series.get(job.series)
        self._forget(job)
        if series is not None:
            self._record_failure(series, job, error)

    def _record_failure(self, series: Series, job: Job, error: str) -> None:
        self.failed += 1
        self._count_end(job, series, "failed")
        # Counted again from here, so a job that fails for good (too few points after a data
        # gap, a model that cannot fit this data) is tried again after fit_every (train:
        # also retrain_every) new points, not on every batch of points the listener reports.
        series.since_fit = 0
        if job.kind is JobKind.TRAIN:
            series.since_train = 0
        self._set_series_job(series, job, SeriesJobState.FAILED, error)
        self.state.event("job_failed", f"{job.kind} of {series.name!r} failed: {error}",
                         series.name, level="error")

    def _count_end(self, job: Job, series: Series, outcome: str) -> None:
        metrics = self.state.metrics
        metrics.jobs_done.labels(job.kind, series.model, outcome).inc()
        if job.sent_at > 0:  # 0: adopted after a restart, or never sent
            metrics.job_duration.labels(job.kind, series.model).observe(
                max(0.0, self.state.clock() - job.sent_at))

    def _requeue(self, job: Job, front: bool = False, delay: float = 0.0) -> None:
        self.by_job_id.pop(job.job_id, None)
        self._mark_worker(job.worker, job, busy=False)
        job.status, job.worker, job.lease_until = JobStatus.QUEUED, None, 0.0
        if delay > 0:
            job.not_before = self.state.clock() + delay
            heapq.heappush(self.delayed, (job.not_before, job.series, job.uid))
        elif front:
            self.ready.appendleft(job.series)
        else:
            self.ready.append(job.series)
        self._set_job_state(job, SeriesJobState.QUEUED)

    def _forget(self, job: Job) -> None:
        self.by_job_id.pop(job.job_id, None)
        self._mark_worker(job.worker, job, busy=False)
        if self.active.get(job.series) is job:
            del self.active[job.series]
        self._writes[job.uid] = None

    # leases and peers -----------------------------------------------------
    def expire_leases(self, now: float) -> float:
        """Re-queue jobs whose lease ended; return when the next lease ends."""
        upcoming = now + 1.0
        for job in list(self.by_job_id.values()):
            if job.lease_until <= now:
                log.warning("lease of job %s ended (worker %s)", job.job_id, job.worker)
                self.state.metrics.lease_expiries.labels(job.kind).inc()
                self._fail(job, f"lease expired (worker {job.worker})", retry=True)
            else:
                upcoming = min(upcoming, job.lease_until)
        if self.delayed:
            upcoming = min(upcoming, self.delayed[0][0])
        return upcoming

    def on_peer_dropped(self, peer: Peer) -> None:
        """A worker went away: its jobs go back to the queue."""
        if peer.client_type is not ClientType.WORKER:
            return
        for job in list(self.by_job_id.values()):
            if job.worker == peer.client_id:
                self._requeue(job, front=True)

    def stats(self) -> dict[str, Any]:
        """Counts for /enodo/status."""
        by_status = {status.value: 0 for status in JobStatus}
        for job in self.active.values():
            by_status[job.status] += 1
        return {**by_status, "done": self.done, "failed": self.failed, "late_results": self.late,
                "forged_results": self.forged.count, "idle_capacity": self.idle_capacity()}
