"""The hub's metrics, counted where things happen: each test has its own registry."""

from __future__ import annotations

import pytest

from actors.hub.handlers import handle_control
from actors.hub.scheduler import ACCEPT_TIMEOUT
from protocol.envelope import Message
from protocol.types import MessageType
from tests.support.hub_state import (
    FakeJobs,
    SaidSiriDB,
    counts,
    hello,
    make_state,
    result,
    worker,
)
from tests.support.hub_state import add_series as add


@pytest.fixture
def hub(tmp_path, clock):
    link = SaidSiriDB(status="failing", connected=False)
    state = make_state(tmp_path, clock=clock, siridb=link)
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=10, fit_every=5, max_attempts=2)
    state.metrics.watch(state)
    return state, scheduler, jobs


def sample(hub_state, name: str, **labels: str) -> float | None:
    return hub_state.metrics.registry.get_sample_value(name, labels)


def test_points_and_reports_are_counted_per_listener(hub):
    state, _, _ = hub
    add(state, "a")
    handle_control(state, b"L", hello("listener-1", "listener"))
    for n in (3, 4):
        reply = handle_control(state, b"L", Message(MessageType.LISTENER_ADD_SERIE_COUNT,
                                                    {"counts": {"a": n}}))
        assert reply.type is MessageType.RESPONSE_OK
    assert sample(state, "enodo_hub_points_reported_total", listener="listener-1") == 7
    assert sample(state, "enodo_hub_count_reports_total", listener="listener-1") == 2
    assert sample(state, "enodo_hub_watched_series") == 1


def test_a_job_done_is_counted_by_kind_model_and_outcome_and_timed(hub, clock):
    state, scheduler, jobs = hub
    model = add(state).model
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    assert sample(state, "enodo_hub_jobs", state="dispatched") == 1
    clock.now += 2.5
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT,
                               result={"kind": "train", "state": {"m": 1}}))
    assert sample(state, "enodo_hub_jobs_done_total", kind="train", model=model,
                  outcome="ok") == 1
    assert sample(state, "enodo_hub_job_duration_seconds_sum", kind="train", model=model) == 2.5
    assert sample(state, "enodo_hub_jobs", state="queued") == 1  # the forecast that follows
    assert sample(state, "enodo_hub_peers", type="worker") == 1


def test_retries_lease_expiries_late_results_and_failures_are_counted(hub, clock):
    state, scheduler, jobs = hub
    model = add(state).model
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    stale = jobs.sent[-1]
    clock.now += ACCEPT_TIMEOUT + 0.1
    scheduler.expire_leases(clock.now)
    assert sample(state, "enodo_hub_lease_expiries_total", kind="train") == 1
    assert sample(state, "enodo_hub_job_retries_total", kind="train") == 1
    scheduler.on_result(result(stale, MessageType.JOB_RESULT, result={"state": {}}))
    assert sample(state, "enodo_hub_late_results_total") == 1
    clock.now += 1.01
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_FAILED, error="bad",
                               retry=False))
    assert sample(state, "enodo_hub_jobs_done_total", kind="train", model=model,
                  outcome="failed") == 1
    assert sample(state, "enodo_hub_forged_results_total") == 0
    assert sample(state, "enodo_hub_siridb_connected") == 0
    assert sample(state, "enodo_hub_siridb_link_state", state="failing") == 1


def test_anomaly_events_are_counted_once_when_first_seen(hub):
    from actors.hub.detection import record_detection

    state, _, _ = hub
    series = add(state)
    event = {"id": 1, "start": 10, "end": None, "peak": 3.0, "peak_ts": 10, "points": 1,
             "state": "open"}
    anomaly = {"timestamp": 10, "value": 9.0, "expected": 1.0, "lower": 0.0, "upper": 2.0,
               "score": 3.0}
    record_detection(state, series, {"anomalies": [anomaly], "events": [event]})
    record_detection(state, series, {"anomalies": [anomaly],
                                     "events": [{**event, "points": 2, "end": 11}]})
    assert sample(state, "enodo_hub_anomaly_events_opened_total") == 1
    assert sample(state, "enodo_hub_anomalies_total") == 1
