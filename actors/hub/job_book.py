"""The scheduler's books: jobs by series and by dispatch, counters, what the turn writes,
and the jobs found out with workers after a restart, waiting to be adopted."""

from __future__ import annotations

import heapq
import logging
from collections import deque
from typing import TYPE_CHECKING

from actors.hub.alert_sources import job_alert
from actors.hub.jobs import ForgeryLog, Job
from actors.hub.series import Series
from protocol.jobs import JobStatus, SeriesJobState
from protocol.types import ClientType, MessageType

if TYPE_CHECKING:  # the state owns the scheduler
    from actors.hub.state import HubState

log = logging.getLogger(__name__)

#: Seconds granted on top of max_job_duration before a running job's lease ends.
LEASE_GRACE = 15.0
#: Finished jobs remembered per series (in memory: the console's job history).
HISTORY = 20


class JobBook:
    """The job tables a scheduler keeps, and how a change of a job reaches series and store."""

    def __init__(self, state: HubState) -> None:
        self.state = state
        self.active: dict[str, Job] = {}          # series name -> its job
        self.by_job_id: dict[str, Job] = {}       # current dispatch id -> job
        self.done = 0
        self.failed = 0
        self.late = 0
        self.forged = ForgeryLog()                # dropped JOB_* messages without a proof
        self._writes: dict[str, Job | None] = {}  # uid -> job to store, None to delete
        self.ready: deque[str] = deque()          # series names whose job can go now
        self.delayed: list[tuple[float, str, str]] = []  # (not_before, series, uid)
        # Jobs a worker had when the hub stopped, by uid: held back until a worker's
        # heartbeat (or result) says it still runs one (it is adopted, not run twice), or
        # until every worker had time to say so (heartbeat_interval x liveness).
        self.adoptable: dict[str, Job] = {}
        self.held_by: dict[str, str | None] = {}  # uid -> the worker it was out with
        self.history: dict[str, deque[dict]] = {}  # series name -> its last finished jobs

    def restore(self) -> None:
        """Take up the stored jobs: queued again, or held for adoption if they were out."""
        state = self.state
        adopt_until = state.clock() + state.heartbeat_interval * state.liveness
        for record in state.store.load_jobs():
            was_out = record.get("status") in (JobStatus.DISPATCHED, JobStatus.RUNNING)
            job = Job.restore(record)
            if job.series in state.series and job.series not in self.active:
                self.active[job.series] = job
                if was_out:
                    self.adoptable[job.uid] = job
                    self.held_by[job.uid] = record.get("worker")
                    job.not_before = adopt_until
                    heapq.heappush(self.delayed, (adopt_until, job.series, job.uid))
                else:
                    self.ready.append(job.series)
                self._set_job_state(job, SeriesJobState.QUEUED)
            else:
                self._writes[job.uid] = None


    def _mark_worker(self, worker: str | None, job: Job, busy: bool) -> None:
        peer = self.state.peers.by_client_id(worker) if worker else None
        if peer is not None:
            (peer.busy_jobs.add if busy else peer.busy_jobs.discard)(job.job_id)

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
        if status in ("done", "failed"):
            self.history.setdefault(series.name, deque(maxlen=HISTORY)).append({
                "kind": kind, "state": status, "error": error, "worker": job.worker,
                "attempt": job.attempt, "queued_at": job.created_at,
                "ended_at": entry["updated_at"],
            })
            # Failed for good: an alert; done: resolves it (the book drops what never fired).
            self.state.alerts.notify(job_alert(series.name, kind, status, error,
                                               entry["updated_at"]))
        self.state.series.touch(series.name)
        self.state.publish(series.name, "state", {"job": kind, "state": status, "error": error})

    def queue_age(self, now_wall: float) -> float:
        """Seconds the oldest job ready to go has waited (0: none waits)."""
        for name in self.ready:
            job = self.active.get(name)
            if job is not None and job.status is JobStatus.QUEUED:
                return max(0.0, now_wall - job.created_at)
        return 0.0

    def finished(self, name: str) -> list[dict]:
        """The series' last finished jobs, newest first (since this hub started)."""
        return list(reversed(self.history.get(name, ())))

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

    def _adopt_reported(self, now: float) -> None:
        for peer in self.state.peers.of_type(ClientType.WORKER):
            if peer.reported_busy and peer.reported_busy not in self.by_job_id:
                self._adopt(peer.reported_busy, peer.client_id, now)

    def _claimant(self, job_id: str, kind: MessageType) -> str | None:
        """The worker a job from before the restart was out with, if it may be adopted."""
        uid = job_id.rpartition(".")[0]
        if kind is MessageType.JOB_REFUSED or uid not in self.adoptable:
            return None
        return self.held_by.get(uid)

    def _adopt(self, job_id: str, worker: str, now: float | None = None) -> Job | None:
        """Take back a job a worker runs since before the hub's restart; None if not one."""
        uid, _, dispatch = job_id.rpartition(".")
        job = self.adoptable.get(uid)
        if job is None or not dispatch.isdigit() or self.active.get(job.series) is not job:
            return None
        if self.held_by.get(uid) != worker:
            return None  # only the worker it was given to may claim it
        del self.adoptable[uid]
        del self.held_by[uid]
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
