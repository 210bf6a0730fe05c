"""A job's failures and its settings, checked before and while it runs.

A failure becomes a `JobError` with a retry flag: transient causes (SiriDB unreachable) are
worth retrying, bad data or a bad model state is not. The worker's loop uses these without
loading the models (actors/worker/jobs.py runs the job in the model child).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors.worker.siridb_io import SeriesNotFound, SiriDBQueryFailed, SiriDBUnavailable
from protocol.jobs import JobKind, JobSettings


class JobError(Exception):
    """A job that cannot complete; retry says whether another attempt may succeed."""

    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


def precheck(kind: str, body: Mapping[str, Any]) -> JobError | None:
    """Return the error a job fails with before it runs (no state to fit or forecast)."""
    if kind not in JobKind._value2member_map_:
        return JobError(f"unknown job kind {kind!r}", False)
    if kind == JobKind.FIT and body.get("state") is None:
        return JobError("not trained: the job carries no model state", False)
    return None  # a forecast without a model state is cold-start anomaly detection


def classify(exc: BaseException) -> JobError:
    """Map any failure of a job to a JobError with the right retry flag."""
    if isinstance(exc, JobError):
        return exc
    if isinstance(exc, SeriesNotFound):
        return JobError("series not found in SiriDB", False)
    if isinstance(exc, SiriDBUnavailable):
        return JobError(f"SiriDB unavailable: {exc}", True)
    if isinstance(exc, SiriDBQueryFailed):
        return JobError(f"SiriDB refused the request: {exc}", False)
    if isinstance(exc, MemoryError):
        return JobError("out of memory", True)
    if isinstance(exc, ValueError):
        return JobError(f"{type(exc).__name__}: {exc}", False)
    return JobError(f"internal error: {exc!r}", False)


def job_settings(body: Mapping[str, Any]) -> JobSettings:
    """The job's settings as the hub sent them (a wrong one fails the job, not retried)."""
    try:
        return JobSettings.of(body.get("settings"))
    except ValueError as exc:
        raise JobError(str(exc), False) from None
