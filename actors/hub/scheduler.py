"""Turns series state into jobs, hands them to idle workers, keeps leases, stores results."""

from __future__ import annotations

import heapq
import logging
from collections import deque
from typing import Any

import zmq

from actors.hub.jobs import Job, backoff, next_kind
from actors.hub.peers import Peer
from actors.hub.results import apply_result
from actors.hub.series import Series
from actors.hub.state import HubState
from protocol.envelope import Message
from protocol.errors import ProtocolError, TransportError
from protocol.jobs import JobKind, JobStatus, OutputKind, SeriesJobState
from protocol.transport import Channel
from protocol.types import ClientType, MessageType

log = logging.getLogger(__name__)

#: Seconds a pushed job may wait for its JOB_ACCEPTED before it is sent again.
ACCEPT_TIMEOUT = 10.0
#: Seconds granted on top of max_job_duration before a running job's lease ends.
LEASE_GRACE = 15.0
JOB_SETTINGS = ("horizon", "interval_level", "max_points", "max_job_duration")


class Scheduler:
    """One active job per series; jobs go out only while a worker is known to be idle."""

    def __init__(self, state: HubState, jobs: Channel) -> None:
        self.state = state
        self.jobs = jobs
        self.active: dict[str, Job] = {}          # series name -> its job
        self.by_job_id: dict[str, Job] = {}       # current dispatch id -> job
        self.ready: deque[str] = deque()          # series names whose job can go now
        self.delayed: list[tuple[float, str, str]] = []  # (not_before, series, uid)
        self.done = 0
        self.failed = 0
        self.late = 0
        self._writes: dict[str, Job | None] = {}  # uid -> job to store, None to delete
        # Jobs a worker had when the hub stopped, by uid: held back until a worker's
        # heartbeat (or result) says it still runs one (it is adopted, not run twice), or
        # until every worker had time to say so (heartbeat_interval x liveness).
        self.adoptable: dict[str, Job] = {}
        adopt_until = state.clock() + state.heartbeat_interval * state.liveness
        for record in state.store.load_jobs():
            was_out = record.get("status") in (JobStatus.DISPATCHED, JobStatus.RUNNING)
            job = Job.restore(record)
            if job.series in state.series and job.series not in self.active:
                self.active[job.series] = job
                if was_out:
                    self.adoptable[job.uid] = job
                    job.not_before = adopt_until
                    heapq.heappush(self.delayed, (adopt_until, job.series, job.uid))
                else:
                    self.ready.append(job.series)
                self._set_job_state(job, SeriesJobState.QUEUED)
            else:
                self._writes[job.uid] = None
        state.on_points = self.consider
        state.before_flush.append(self.flush)
        state.on_peer_dropped = self.on_peer_dropped
        state.job_stats = self.stats
        state.request_job = self.request

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
        workers = self.state.peers.of_type(ClientType.WORKER)
        capacity = sum(w.capacity for w in workers)
        # Jobs out with workers (dispatched or running) are exactly those with a current
        # dispatch id: O(1) here, where counting self.active was O(series) every turn.
        out = len(self.by_job_id)
        # A worker busy with a job this hub did not give it (given before a restart, or a
        # dispatch that is over) is not idle either; without this, every push to it came
        # straight back refused, turn after turn, until that job ended.
        foreign = sum(1 for w in workers
                      if w.reported_busy is not None and w.reported_busy not in self.by_job_id)
        return capacity - out - foreign

    def dispatch(self, now: float) -> None:
        """Push ready jobs while there is idle capacity."""
        if self.adoptable:
            self._adopt_reported(now)
        while self.delayed and self.delayed[0][0] <= now:
            _, name, uid = heapq.heappop(self.delayed)
            self.adoptable.pop(uid, None)
            job = self.active.get(name)
            if job is not None and job.uid == uid and job.status is JobStatus.QUEUED:
                self.ready.append(name)
        free = self.idle_capacity()
        while free > 0 and self.ready:
            name = self.ready.popleft()
            job = self.active.get(name)
            if job is None or job.status is not JobStatus.QUEUED:
                continue
            if not self._push(job, now):
                self.ready.appendleft(name)
                return
            free -= 1

    def _push(self, job: Job, now: float) -> bool:
        series = self.state.series.get(job.series)
        if series is None:
            self._forget(job)
            return True
        settings = {k: self.state.settings[k] for k in JOB_SETTINGS}
        context: dict[str, Any] = {}
        if job.kind is JobKind.FORECAST:
            context["previous_forecast"] = self.state.store.get_output(
                job.series, OutputKind.FORECAST)
            context["detector"] = self.state.store.get_output(job.series, OutputKind.DETECTOR)
            settings["anomaly"] = series.anomaly
        job.dispatches += 1
        body = {
            "job_id": job.job_id, "series": job.series, "model": series.model,
            "model_parameters": series.model_parameters,
            "state": None if job.kind is JobKind.TRAIN else self.state.store.get_model(job.series),
            "settings": settings, "attempt": job.attempt, "context": context,
        }
        try:
            self.jobs.send(Message(job.kind.message_type, body), flags=zmq.NOBLOCK)
        except TransportError:
            job.dispatches -= 1
            return False  # no worker connected to the jobs socket, or its pipe is full
        except ProtocolError as exc:
            self._fail(job, f"job could not be sent: {exc.message}", retry=False)
            return True
        job.status, job.lease_until = JobStatus.DISPATCHED, now + ACCEPT_TIMEOUT
        job.points_mark, job.counted_mark = series.points, series.points_counted
        self.by_job_id[job.job_id] = job
        self._set_job_state(job, SeriesJobState.QUEUED)
        return True

    # adopting jobs from before a restart --------------------------------
    def _adopt_reported(self, now: float) -> None:
        for peer in self.state.peers.of_type(ClientType.WORKER):
            if peer.reported_busy and peer.reported_busy not in self.by_job_id:
                self._adopt(peer.reported_busy, peer.client_id, now)

    def _adopt(self, job_id: str, worker: str, now: float | None = None) -> Job | None:
        """Take back a job a worker runs since before the hub's restart; None if not one."""
        uid, _, dispatch = job_id.rpartition(".")
        job = self.adoptable.get(uid)
        if job is None or not dispatch.isdigit() or self.active.get(job.series) is not job:
            return None
        del self.adoptable[uid]
        now = self.state.clock() if now is None else now
        job.dispatches = int(dispatch)
        job.status, job.worker = JobStatus.RUNNING, worker
        job.lease_until = now + self.state.settings["max_job_duration"] + LEASE_GRACE
        self.by_job_id[job.job_id] = job
        self._mark_worker(worker, job, busy=True)
        self._set_job_state(job, SeriesJobState.RUNNING)
        log.info("adopted job %s (%s of %r) from worker %s, which ran it before the restart",
                 job.job_id, job.kind, job.series, worker)
        return job

    # results --------------------------------------------------------------
    def on_result(self, msg: Message) -> None:
        """Handle JOB_ACCEPTED, JOB_REFUSED, JOB_RESULT and JOB_FAILED from workers."""
        job = self.by_job_id.get(msg.body.get("job_id", ""))
        if job is None and msg.type is not MessageType.JOB_REFUSED:
            job = self._adopt(msg.body.get("job_id", ""), msg.body.get("worker_id", ""))
        if job is None or job.status not in (JobStatus.DISPATCHED, JobStatus.RUNNING):
            self.late += 1
            log.info("dropped a late %s for job %s", msg.type.value, msg.body.get("job_id"))
            return
        worker = msg.body["worker_id"]
        if msg.type is MessageType.JOB_ACCEPTED:
            job.status, job.worker = JobStatus.RUNNING, worker
            duration = self.state.settings["max_job_duration"]
            job.lease_until = self.state.clock() + duration + LEASE_GRACE
            self._mark_worker(worker, job, busy=True)
            self._set_job_state(job, SeriesJobState.RUNNING)
        elif msg.type is MessageType.JOB_REFUSED:
            peer = self.state.peers.by_client_id(worker)
            if peer is not None and not peer.busy_jobs and peer.reported_busy is None:
                # Busy, and neither we nor its heartbeats knew (PUSH also hands jobs to
                # workers busy with ours: that is no news): count it busy until its next
                # heartbeat says what it runs.
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
        outage = self.state.siridb_status().get("status") == "failing"
        if retry and (job.attempt < self.state.settings["max_attempts"] or outage):
            log.info("job %s of %r failed (%s); retrying%s", job.kind, job.series, error,
                     " (SiriDB is failing: max_attempts waits)" if outage else "")
            self._requeue(job, delay=backoff(job.attempt))
            return
        series = self.state.series.get(job.series)
        self._forget(job)
        if series is not None:
            self._record_failure(series, job, error)

    def _record_failure(self, series: Series, job: Job, error: str) -> None:
        self.failed += 1
        if job.kind is JobKind.TRAIN:
            series.since_train = 0
        self._set_series_job(series, job, SeriesJobState.FAILED, error)
        self.state.event("job_failed", f"{job.kind} of {series.name!r} failed: {error}",
                         series.name, level="error")

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

    def _mark_worker(self, worker: str | None, job: Job, busy: bool) -> None:
        peer = self.state.peers.by_client_id(worker) if worker else None
        if peer is not None:
            (peer.busy_jobs.add if busy else peer.busy_jobs.discard)(job.job_id)

    # bookkeeping ----------------------------------------------------------
    def _set_job_state(self, job: Job, status: str) -> None:
        self._writes[job.uid] = job
        series = self.state.series.get(job.series)
        if series is not None:
            self._set_series_job(series, job, status, job.error)

    def _set_series_job(self, series: Series, job: Job, status: str, error: str | None) -> None:
        # worker: who runs it (or ran it last); attempt: failed tries so far (backoff shows).
        entry, kind = series.jobs[job.kind], job.kind
        seen = (entry["state"], entry["error"], entry.get("worker"), entry.get("attempt"))
        if seen == (status, error, job.worker, job.attempt):
            return
        entry.update(state=status, error=error, updated_at=self.state.wall(), worker=job.worker,
                     attempt=job.attempt)
        self.state.series.touch(series.name)
        self.state.publish(series.name, "state", {"job": kind, "state": status, "error": error})

    def flush(self) -> None:
        """Write the turn's job changes: one record per job, however often it changed."""
        if not self._writes:
            return
        writes, self._writes = self._writes, {}
        records = [job.record() for job in writes.values() if job is not None]
        gone = [uid for uid, job in writes.items() if job is None]
        if records:
            self.state.store.put_jobs(records)
        if gone:
            self.state.store.delete_jobs(gone)

    def stats(self) -> dict[str, Any]:
        """Counts for /enodo/status."""
        by_status = {status.value: 0 for status in JobStatus}
        for job in self.active.values():
            by_status[job.status] += 1
        return {**by_status, "done": self.done, "failed": self.failed, "late_results": self.late,
                "idle_capacity": self.idle_capacity()}
