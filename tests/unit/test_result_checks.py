"""Sane values in results: what a proven worker sends is still checked before it is stored."""

from __future__ import annotations

import pytest

from actors.hub.result_checks import Bounds, check_detector, clean_anomalies, clean_event
from protocol.types import MessageType
from tests.support.hub_state import FakeJobs, SaidSiriDB, counts, make_state, result, worker
from tests.support.hub_state import add_series as add

NOW = 1_700_000_000.0  # the fake clock's wall time in these tests
MS = Bounds(NOW, "ms")
DETECTOR = {"last_ts": 1_699_999_000_000, "flags": [0, 1],
            "views": {"residuals": [0.5, -1.0], "errors": [0.25]}, "quiet": 0, "event": None}


@pytest.fixture
def forecasting(tmp_path, clock):
    """A series with a model whose FORECAST_SERIE job is out with worker w1."""
    clock.now = NOW
    state = make_state(tmp_path, clock=clock, siridb=SaidSiriDB(precision="ms"))
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=10, fit_every=5)
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={"state": {"m": 1}}))
    scheduler.dispatch(clock.now)
    assert jobs.sent[-1].type is MessageType.FORECAST_SERIE
    return state, scheduler, jobs.sent[-1]


def forecast_result(**changes) -> dict:
    base = {"forecast": {"timestamps": [1_700_000_000_000, 1_700_003_600_000],
                         "mean": [1.0, 2.0], "lower": [0.0, 1.0], "upper": [2.0, 3.0]},
            "anomalies": [{"timestamp": 1_699_999_000_000, "value": 9.0, "score": 2.0}],
            "events": [], "detector": dict(DETECTOR)}
    base.update(changes)
    return base


@pytest.mark.parametrize("insane", [
    {"detector": {**DETECTOR, "last_ts": 9 * 10**18}},   # silenced detection for good
    {"detector": {**DETECTOR, "flags": [7]}},
    {"detector": {**DETECTOR, "quiet": -1}},
    {"detector": {**DETECTOR, "extra": "<script>"}},
    {"detector": {**DETECTOR, "views": {"residuals": [0.5] * 101}}},
    {"detector": {**DETECTOR, "views": {"residuals": "<script>"}}},
    {"anomalies": [{"timestamp": 1, "view": "<script>"}]},
    {"anomalies": [{"timestamp": 1, "surprise": {"level": "<b>"}}]},
    {"anomalies": [{"timestamp": 9 * 10**18}]},
    {"anomalies": [{"timestamp": 1, "value": "<script>alert(1)</script>"}]},
    {"events": [{"id": 1, "start": 1, "end": 9 * 10**18, "peak": 2.0, "peak_ts": 1,
                 "points": 1, "state": "open"}]},
    {"events": [{"id": 1, "start": 1, "end": 1, "peak": 2.0, "peak_ts": 1, "points": 1,
                 "state": "<b>"}]},
    {"forecast": {"timestamps": [2, 1], "mean": [1.0, 1.0], "lower": [1.0, 1.0],
                  "upper": [1.0, 1.0]}},
    {"forecast": {"timestamps": [9 * 10**18], "mean": [666.0], "lower": [666.0],
                  "upper": [666.0]}},
    {"forecast": {"timestamps": [1], "mean": [1.0], "lower": [1.0], "upper": [1.0],
                  "level": "<script>"}},
])
def test_an_insane_result_fails_the_job_and_changes_nothing(forecasting, insane):
    state, scheduler, job = forecasting
    scheduler.on_result(result(job, MessageType.JOB_RESULT, result=forecast_result(**insane)))
    for kind in ("forecast", "detector", "anomalies", "anomaly_events"):
        assert state.store.get_output("s", kind) is None, kind
    assert state.series.get("s").forecast_at is None
    assert "malformed result" in state.series.get("s").jobs["forecast"]["error"]


def test_a_sane_result_is_stored_with_only_the_documented_keys(forecasting):
    state, scheduler, job = forecasting
    sane = forecast_result(anomalies=[{"timestamp": 1_699_999_000_000, "value": 9.0,
                                       "html": "<script>alert(1)</script>"}])
    sane["forecast"]["note"] = "<script>"
    scheduler.on_result(result(job, MessageType.JOB_RESULT, result=sane))
    assert state.store.get_output("s", "anomalies") == [
        {"timestamp": 1_699_999_000_000, "value": 9.0}]
    assert "note" not in state.store.get_output("s", "forecast")
    assert state.store.get_output("s", "detector") == DETECTOR


def test_an_explained_anomaly_keeps_its_explanation():
    record = {"timestamp": 1_699_999_000_000, "value": 9.0, "expected": 1.0, "lower": 0.0,
              "upper": 2.0, "score": 2.5, "view": "seasonal", "probability": 1e-6,
              "baseline": 1.1, "surprise": {"seasonal": 6.0, "level": 0.5},
              "point_score": 2.5, "mean_score": 0.2}
    assert clean_anomalies([record], MS) == [record]


def test_bounds_follow_the_precision_and_default_to_the_finest():
    assert Bounds(NOW, "s").judged == int(NOW) + 86_400
    assert Bounds(NOW, None).judged == Bounds(NOW, "ns").judged > 9 * 10**17
    with pytest.raises(ValueError, match="detector last_ts"):
        check_detector({"last_ts": 9 * 10**18}, Bounds(NOW, None))
    with pytest.raises(ValueError):
        clean_anomalies([{"timestamp": True}], MS)
    event = {"id": 5, "start": 5, "end": 6, "peak": 1.5, "peak_ts": 6, "points": 2,
             "alerted": 1.5, "state": "open"}
    assert clean_event(event, MS) == event
