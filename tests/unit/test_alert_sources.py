"""The hub's alert sources: anomaly events, jobs failed for good, system trouble."""

from __future__ import annotations

import pytest

from actors.hub.actions import run_action
from actors.hub.alert_sources import anomaly_alerts, job_alert
from actors.hub.handlers import handle_control
from actors.hub.system_alerts import SystemWatch
from protocol.alerts import AlertStatus, Severity
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
from tests.unit.test_hub_detection import add

EVENT = {"id": 5, "start": 5, "end": 5, "peak": 1.5, "peak_ts": 5, "points": 1, "state": "open"}


def test_an_event_fires_escalates_and_resolves():
    opened = anomaly_alerts("cpu", "arima", EVENT, 1.0)
    escalated = anomaly_alerts("cpu", "arima", {**EVENT, "peak": 2.5, "points": 2}, 2.0)
    closed = anomaly_alerts("cpu", "arima", {**EVENT, "peak": 2.5, "state": "closed"}, 3.0)
    assert [(a.status, a.severity) for a in opened] == [(AlertStatus.FIRING, Severity.WARNING)]
    assert [(a.status, a.severity) for a in escalated] == [
        (AlertStatus.FIRING, Severity.CRITICAL)]
    assert [a.status for a in closed] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    assert {a.key for a in opened + escalated + closed} == {"anomaly:cpu:5"}
    assert opened[0].labels == {"model": "arima"} and opened[0].details["peak"] == 1.5


def test_a_job_failed_for_good_fires_and_a_success_resolves():
    failed = job_alert("cpu", "train", "failed", "boom", 1.0)
    assert (failed.status, failed.key, failed.series) == (
        AlertStatus.FIRING, "system:job:cpu:train", "cpu")
    assert job_alert("cpu", "train", "done", None, 2.0).status is AlertStatus.RESOLVED


@pytest.fixture
def hub(tmp_path, clock):
    state = make_state(tmp_path, clock=clock, alerts=True, siridb=SaidSiriDB())
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=100, fit_every=10)
    yield state, scheduler, jobs
    state.alerts.close()


def test_the_events_a_worker_sends_are_alerts_in_the_book(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    for event in (EVENT, {**EVENT, "peak": 3.0}, {**EVENT, "state": "closed", "peak": 3.0}):
        counts(state, 20)
        scheduler.dispatch(clock.now)
        scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={
            "kind": "forecast", "forecast": None, "anomalies": [], "events": [event]}))
        if event["state"] == "open":
            assert state.alerts.firing["anomaly:s:5"]["alert"]["severity"] == (
                "warning" if event["peak"] < 2 else "critical")
    assert "anomaly:s:5" not in state.alerts.firing  # closed: resolved


def test_system_trouble_fires_after_its_grace_and_resolves(hub, clock):
    state, scheduler, _ = hub
    age = {"now": 0.0}
    status = state.siridb.said
    watch = SystemWatch(state, lambda now: age["now"], grace=10, max_queue_age=60, interval=1)
    add(state)
    watch.tick(clock.now)
    assert not state.alerts.firing  # not yet: within the grace
    status.update(status="failing", error="refused")
    age["now"] = 61.0
    clock.now += 11
    watch.tick(clock.now)
    assert set(state.alerts.firing) == {"system:listener", "system:workers"}
    clock.now += 11
    watch.tick(clock.now)
    assert set(state.alerts.firing) == {"system:listener", "system:workers", "system:siridb",
                                        "system:job_queue"}
    handle_control(state, b"L", hello("l1", "listener"))
    status["status"] = "connected"
    clock.now += 1
    watch.tick(clock.now)
    assert set(state.alerts.firing) == {"system:workers", "system:job_queue"}


def test_removing_a_series_resolves_its_open_event(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    counts(state, 20)
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={
        "kind": "forecast", "forecast": None, "anomalies": [], "events": [EVENT]}))
    assert "anomaly:s:5" in state.alerts.firing
    run_action(state, "remove_series", {"name": "s"})
    assert "anomaly:s:5" not in state.alerts.firing
