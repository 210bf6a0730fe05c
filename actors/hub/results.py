"""Storing what workers computed: model states, forecasts, anomalies, counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors.hub.detection import check_detection, record_detection
from actors.hub.jobs import Job
from actors.hub.result_checks import (
    Bounds,
    check_accuracy,
    check_detector,
    check_forecast_times,
    clean_anomalies,
    clean_event,
    forecast_summary,
)
from actors.hub.rules import apply_states, checked_analysis, checked_states, store_analysis
from actors.hub.series import MAX_POINTS, Series
from protocol.jobs import JobKind, OutputKind, check_result

if TYPE_CHECKING:  # the state owns the scheduler, which applies results
    from actors.hub.state import HubState

FORECAST_COLUMNS = ("timestamps", "mean", "lower", "upper")


def apply_count(state: HubState, series: Series, count: int, counted_then: int) -> None:
    """Take SiriDB's point count as the truth; what the tee missed shows up as drift.

    counted_then is series.points_counted when the count was asked for, so points
    reported by the listener while the query ran are not counted twice. Points SiriDB held
    when a count was read and whose report from the listener came only after it was asked
    for look missed by that count and found twice by the next: the next takes them back
    from the drift (never below 0). The scheduling counts keep them: a job a few points
    early is harmless, and a job that ran meanwhile has reset them.
    """
    if series.points_siridb is not None:
        expected = series.points_siridb + (counted_then - series.counted_at_reconcile)
        missed = count - expected
        if missed > 0:
            series.drift += missed
            series.since_fit += missed
            series.since_train += missed
        elif missed < 0:
            series.drift = max(0, series.drift + missed)
    series.points_siridb = count
    series.counted_at_reconcile = counted_then
    state.series.touch(series.name)


def checked_forecast(forecast: Any, anomalies: list, bounds: Bounds) -> dict[str, Any]:
    """The forecast as stored and served: its four columns and level, checked.

    Its shape (four lists of one length, integer timestamps, numbers or null) was checked
    with the whole result (protocol.jobs.check_result); here, what the shape cannot say.
    """
    check_forecast_times(forecast["timestamps"], bounds)
    out = {key: forecast[key] for key in FORECAST_COLUMNS}
    level = forecast.get("level")
    if level is not None:
        if type(level) not in (int, float) or not 0 < level < 1:
            raise ValueError("forecast level must be a number between 0 and 1")
        out["level"] = level
    return out


def checked_detection(state: HubState, result: dict[str, Any]) -> dict[str, Any]:
    """A forecast result's anomalies, events and detector state, checked and rebuilt.

    ValueError/TypeError when any value is out of range: nothing of the result is stored.
    """
    check_detection(result)
    bounds = Bounds(state.wall(), state.siridb.precision)
    events = result.get("events", [])
    check_detector(result.get("detector"), bounds)
    return {"anomalies": clean_anomalies(result.get("anomalies", []), bounds),
            "events": [clean_event(e, bounds) for e in events],
            "detector": result.get("detector")}


def apply_result(state: HubState, series: Series, job: Job, result: dict[str, Any]) -> None:
    """Store one job's result on the series; KeyError/TypeError/ValueError when malformed.

    Every check runs before the first write: a result refused changes nothing.
    """
    now = state.wall()
    # The result's shape for its kind first (ValueError names the key).
    check_result(job.kind, result)
    count = result.get("count")
    if type(count) is int and not 0 <= count <= MAX_POINTS:
        raise ValueError(f"count {count} out of range")
    rule_states = checked_states(state, series, result.get("rules"))
    analysis = checked_analysis(result.get("analysis")) if job.kind is JobKind.TRAIN else None
    if job.kind in (JobKind.TRAIN, JobKind.FIT):
        model_state = result["state"]
        accuracy = result.get("accuracy") if job.kind is JobKind.TRAIN else None
        if accuracy is not None:
            accuracy = check_accuracy(accuracy)  # before anything is stored
        state.store.put_model(series.name, model_state)
        series.since_fit = max(0, series.points - job.points_mark)
        if job.kind is JobKind.TRAIN:
            series.trained_at = now
            series.since_train = series.since_fit
            if accuracy is not None:
                state.store.put_output(series.name, OutputKind.ACCURACY,
                                       {**accuracy, "measured_at": now})
            if analysis is not None:
                store_analysis(state, series, analysis)
    elif result["forecast"] is None:
        # Cold-start detection (no model yet): anomalies and events, no forecast.
        record_detection(state, series, checked_detection(state, result))
        series.since_fit = max(0, series.points - job.points_mark)
    else:
        detection = checked_detection(state, result)
        forecast = checked_forecast(result["forecast"], detection["anomalies"],
                                    Bounds(now, state.siridb.precision))
        state.store.put_output(series.name, OutputKind.FORECAST, forecast)
        record_detection(state, series, detection)
        series.forecast_at = now
        series.last_forecast = forecast_summary(forecast, len(detection["anomalies"]))
        state.publish(series.name, "forecast", {"summary": series.last_forecast})
    if type(count) is int:
        apply_count(state, series, count, job.counted_mark)
    apply_states(state, series, rule_states)
    state.series.touch(series.name)
