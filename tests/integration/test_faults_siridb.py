"""SiriDB away: jobs fail softly and back off, /siridb/status says why, work resumes after.

Real processes: the SiriDB development server storing in an SQLite file, the hub, one worker
and gunicorn. SiriDB is stopped while a job is wanted, then started again on the same port
with the same file.
"""

from __future__ import annotations

import time

import pytest

from tests.integration.test_worker_harness import seasonal_points, siridb
from tests.support.stack import Stack
from tests.support.waiting import wait_for

NAME = "db/away"


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=1, api=True, storage=str(tmp_path / "siridb.sqlite"))
    try:
        yield stack.start()
    finally:
        stack.close()


def test_jobs_back_off_while_siridb_is_away_and_resume_when_it_returns(stack):
    def siridb_status() -> dict:
        status, _, body = stack.api.request("GET", "/siridb/status")
        assert status == 200
        return body

    siridb(stack.db.port, ("insert", {NAME: seasonal_points(300)}))
    client = stack.client
    client.call("set_settings", settings={"min_data_points": 100, "horizon": 12})
    assert client.call("get_settings")["max_attempts"] == 3
    client.call("add_series", name=NAME, model="arima")
    wait_for(lambda: stack.job(NAME, "forecast")["state"] == "done", 60, "the first forecast")
    assert siridb_status()["status"] == "connected"

    stack.db.stop()
    failing = wait_for(lambda: (s := siridb_status())["status"] == "failing" and s, 10,
                       "/siridb/status to say failing")
    assert not failing["connected"] and failing["error"]
    assert failing["port"] == stack.db.port and failing["database"] == "dbtest"

    # A fit is wanted while SiriDB is away: each try fails softly and the next waits longer.
    client.call("queue_job", name=NAME, job_type="fit")
    seen: dict[int, float] = {}

    def attempts(n: int) -> bool:
        job = stack.job(NAME, "fit")
        seen.setdefault(job["attempt"], time.monotonic())
        return job["attempt"] >= n

    wait_for(lambda: attempts(3), 30, "three failed tries of the fit")
    job = stack.job(NAME, "fit")
    # max_attempts (3) is spent, but the hub cannot reach SiriDB either: not the job's
    # fault, so it is not failed for good; it waits for SiriDB, backing off.
    assert job["state"] in ("queued", "running") and "SiriDB unavailable" in job["error"]
    # Backoff: 1 s after the first failure, 2 s after the second (the tries are quick).
    assert seen[2] - seen[1] >= 0.9 and seen[3] - seen[2] >= 1.9
    assert seen[3] - seen[2] > seen[2] - seen[1]
    events = client.call("event_log", limit=100)["events"]
    assert not [e for e in events if e["kind"] == "job_failed"]  # nothing failed for good
    alive = stack.alive()
    assert alive.pop("siridb") is False and all(alive.values()), alive

    back_at = time.time()
    stack.db.start()  # same port, same SQLite file: the history is back
    wait_for(lambda: siridb_status()["status"] == "connected", 15, "SiriDB connected again")

    def fitted() -> bool:
        job = stack.job(NAME, "fit")
        return job["state"] == "done" and job["error"] is None

    wait_for(fitted, 30, "the fit to succeed once SiriDB is back")
    wait_for(lambda: stack.job(NAME, "forecast")["updated_at"] > back_at, 30,
             "a forecast after it")
    assert stack.job(NAME, "forecast")["state"] in ("queued", "running", "done")
    wait_for(lambda: stack.job(NAME, "forecast")["state"] == "done", 30, "that forecast done")
    status = client.status()["jobs"]
    assert status["failed"] == 0 and status["queued"] == status["running"] == 0
    assert all(stack.alive().values())
