"""Storing what workers computed: model states, forecasts, anomalies, counts."""

from __future__ import annotations

from typing import Any

from actors.hub.detection import check_detection, record_detection
from actors.hub.jobs import Job
from actors.hub.series import Series
from actors.hub.state import MAX_POINTS, HubState
from protocol.jobs import JobKind, OutputKind, check_result


def apply_count(state: HubState, series: Series, count: int, counted_then: int) -> None:
    """Take SiriDB's point count as the truth; what the tee missed shows up as drift.

    counted_then is series.points_counted when the count was asked for, so points
    reported by the listener while the query ran are not counted twice.
    """
    if series.points_siridb is not None:
        expected = series.points_siridb + (counted_then - series.counted_at_reconcile)
        missed = count - expected
        if missed > 0:
            series.drift += missed
            series.since_fit += missed
            series.since_train += missed
    series.points_siridb = count
    series.counted_at_reconcile = counted_then
    state.series.touch(series.name)


def apply_result(state: HubState, series: Series, job: Job, result: dict[str, Any]) -> None:
    """Store one job's result on the series; KeyError/TypeError/ValueError when malformed."""
    now = state.wall()
    # Checked against its kind's shape before anything is stored: a malformed result
    # changes nothing (ValueError names the key).
    check_result(job.kind, result)
    if job.kind in (JobKind.TRAIN, JobKind.FIT):
        model_state = result["state"]
        state.store.put_model(series.name, model_state)
        series.since_fit = max(0, series.points - job.points_mark)
        if job.kind is JobKind.TRAIN:
            series.trained_at = now
            series.since_train = series.since_fit
            accuracy = result.get("accuracy")
            if isinstance(accuracy, dict):
                state.store.put_output(series.name, OutputKind.ACCURACY,
                                       {**accuracy, "measured_at": now})
    elif result["forecast"] is None:
        # Cold-start detection (no model yet): anomalies and events, no forecast.
        record_detection(state, series, result)
        series.since_fit = max(0, series.points - job.points_mark)
    else:
        forecast = result["forecast"]
        check_detection(result)
        state.store.put_output(series.name, OutputKind.FORECAST, forecast)
        record_detection(state, series, result)
        series.forecast_at = now
        summary = result.get("summary")
        series.last_forecast = summary if isinstance(summary, dict) and summary else {
            "points": len(forecast["mean"])}
        state.publish(series.name, "forecast", {"summary": series.last_forecast})
    count = result.get("count")
    if type(count) is int:
        if not 0 <= count <= MAX_POINTS:
            raise ValueError(f"count {count} out of range")
        apply_count(state, series, count, job.counted_mark)
    state.series.touch(series.name)
