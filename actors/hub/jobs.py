"""Job records and the rules that turn point counts into jobs."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from actors.common.backoff import doubling
from actors.hub.series import Series
from protocol.anomaly import COLD_START_MIN_POINTS
from protocol.envelope import Message
from protocol.jobs import JobKind, JobStatus, SeriesJobState

log = logging.getLogger(__name__)
#: Seconds between two warnings about dropped forged results (the rest are counted).
FORGERY_WARN_INTERVAL = 10.0


@dataclass
class Job:
    """One job of one series; `job_id` changes with every dispatch, so late results are known."""

    uid: str
    series: str
    kind: JobKind
    attempt: int = 0              # failed tries so far
    dispatches: int = 0           # times sent to a worker; part of job_id
    points_mark: int = 0          # series.points when dispatched
    counted_mark: int = 0         # series.points_counted when dispatched
    status: JobStatus = JobStatus.QUEUED
    worker: str | None = None
    lease_until: float = 0.0      # monotonic; meaningless after a restart
    not_before: float = 0.0       # monotonic; backoff after a soft failure
    sent_at: float = 0.0          # monotonic; when this dispatch went out (duration metric)
    created_at: float = 0.0       # wall clock
    error: str | None = None

    @property
    def job_id(self) -> str:
        """The id of the current dispatch: uid and attempt."""
        return f"{self.uid}.{self.dispatches}"

    @classmethod
    def new(cls, series: str, kind: str, now_wall: float) -> Job:
        """A fresh queued job."""
        return cls(os.urandom(8).hex(), series, JobKind(kind), created_at=now_wall)

    def record(self) -> dict[str, Any]:
        """What the store keeps (keyed by uid); every field is a plain value, so no deep copy."""
        out = {name: getattr(self, name) for name in _FIELDS}
        out["job_id"] = self.uid
        return out

    @classmethod
    def restore(cls, record: dict[str, Any]) -> Job:
        """Rebuild a stored job; one that was out with a worker is queued again."""
        fields = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        job = cls(**fields)
        job.kind = JobKind(job.kind)
        job.status, job.worker, job.lease_until, job.not_before = JobStatus.QUEUED, None, 0.0, 0.0
        job.sent_at = 0.0
        return job


_FIELDS = tuple(f.name for f in fields(Job))


def next_kind(series: Series, settings: dict[str, Any], now_wall: float) -> JobKind | None:
    """Return the job a series needs now (train, fit, forecast) or None."""
    if series.requested:
        return JobKind(series.requested)
    if series.trained_at is None:
        enough = series.points >= settings["min_data_points"]
        # After a failed training, wait for more data rather than retrying in a loop.
        failed = series.jobs[JobKind.TRAIN]["state"] == SeriesJobState.FAILED
        if enough and (not failed or series.since_train >= settings["fit_every"]):
            return JobKind.TRAIN
        # No model yet: a forecast job without a model state is cold-start anomaly detection.
        if series.points >= COLD_START_MIN_POINTS and series.since_fit >= settings["fit_every"]:
            return JobKind.FORECAST
        return None
    if series.since_train >= settings["retrain_every"]:
        return JobKind.TRAIN
    interval = settings["retrain_interval"]
    if interval > 0 and now_wall - series.trained_at >= interval:
        return JobKind.TRAIN
    if series.since_fit >= settings["fit_every"]:
        return JobKind.FIT
    return None


def backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait before try number attempt+1 of a softly failed job."""
    return doubling(attempt, base, cap)


class ForgeryLog:
    """Counts dropped forged or misattributed job messages; warns at most every 10 s."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.count = 0
        self._quiet_until = 0.0
        self._suppressed = 0

    def drop(self, msg: Message, why: str) -> None:
        """Note one dropped message; a flood of them costs one log line per interval."""
        self.count += 1
        now = self.clock()
        if now < self._quiet_until:
            self._suppressed += 1
            return
        more = f" ({self._suppressed} more since the last warning)" if self._suppressed else ""
        log.warning("dropped a forged %s for job %.64r claiming worker %.64r: %s%s",
                    msg.type.value, msg.body.get("job_id"), msg.body.get("worker_id"), why, more)
        self._suppressed = 0
        self._quiet_until = now + FORGERY_WARN_INTERVAL
