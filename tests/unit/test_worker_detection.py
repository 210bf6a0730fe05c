"""Worker side of anomaly detection: cold-start jobs, settings and state from the job body,
events written to SiriDB once each."""

from __future__ import annotations

import math

from actors.worker.detection import (
    MAX_JUDGED,
    anomaly_settings,
    detector_for,
    event_points,
    first_new,
    global_sensitivity,
)
from tests.support.memory_siridb import MemorySiriDB
from tests.support.worker_jobs import body, run_job, seasonal

MINUTE = 60_000


def calm(n: int, start: int = 1_700_000_000_000) -> list[list]:
    return [[start + i * MINUTE, 50.0 + math.sin(i) + 0.5 * math.cos(3 * i)] for i in range(n)]


def cold_job(context=None, **settings):
    job = body(state=None, **settings)
    job["context"] = context or {}
    return job


def test_cold_start_job_judges_new_points_and_writes_no_forecast():
    points = calm(60)
    points[50][1] = 90.0
    db = MemorySiriDB({"s": points})
    first = run_job(db, "forecast", cold_job(interval_level=0.99, anomaly={"event_gap": 3}))
    assert first["cold_start"] is True and first["forecast"] is None
    assert first["count"] == 60 and first["judged"] == 40  # each after 20 earlier points
    assert [a["timestamp"] for a in first["anomalies"]] == [points[50][0]]
    [anomaly] = first["anomalies"]
    # It says why: the view that fired, what was expected, how rare the point is.
    assert anomaly["score"] > 1 and anomaly["view"] == "seasonal"
    assert anomaly["probability"] < 1e-4 and abs(anomaly["baseline"] - 50.0) < 2.0
    assert anomaly["lower"] < anomaly["expected"] < anomaly["upper"] < 90.0
    [event] = first["events"]
    assert (event["start"], event["state"]) == (points[50][0], "closed")
    assert "enodo.s.forecast" not in db.series
    assert db.series["enodo.s.anomalies"] == [[points[50][0], first["anomalies"][0]["score"]]]
    assert db.series["enodo.s.anomaly_events"] == [[points[50][0], event["peak"]]]
    assert first["written"] == ["enodo.s.anomalies", "enodo.s.anomaly_events"]
    # The next job carries the detector state: only points after the last judged one count.
    db.series["s"] += calm(5, points[-1][0] + MINUTE)
    second = run_job(db, "forecast", cold_job({"detector": first["detector"]},
                                              interval_level=0.99))
    assert second["judged"] == 5 and second["anomalies"] == [] and second["events"] == []
    # Redone with the old state (its result was lost): the same outputs, written once.
    again = run_job(db, "forecast", cold_job(interval_level=0.99, anomaly={"event_gap": 3}))
    assert again["anomalies"] == first["anomalies"]
    assert len(db.series["enodo.s.anomalies"]) == 1
    assert len(db.series["enodo.s.anomaly_events"]) == 1


def test_model_forecast_applies_the_series_settings():
    points = seasonal(300)
    db = MemorySiriDB({"s": points})
    trained = run_job(db, "train", body(max_points=200))
    forecast = run_job(db, "forecast", body(state=trained["state"]))["forecast"]
    stamps = forecast["timestamps"]
    db.series["s"] += [[stamps[0], forecast["mean"][0] + 99], [stamps[1], forecast["mean"][1] - 99]]
    job = body(state=trained["state"], anomaly={"direction": "below"})
    job["context"] = {"previous_forecast": forecast}
    judged = run_job(db, "forecast", job)
    assert [a["timestamp"] for a in judged["anomalies"]] == [stamps[1]]
    assert judged["detector"]["last_ts"] == stamps[1]
    assert [e["state"] for e in judged["events"]] == ["open"]


def test_unusable_settings_fall_back_to_defaults():
    assert anomaly_settings({"anomaly": {"direction": "up"}}).direction == "both"
    assert anomaly_settings({}).k == 1


def test_global_sensitivity_comes_with_the_job_and_the_series_setting_wins():
    assert global_sensitivity({"anomaly_sensitivity": 1e-6}) == 1e-6
    assert global_sensitivity({"anomaly_sensitivity": 2}) == global_sensitivity({})
    assert detector_for({"anomaly_sensitivity": 1e-6}, None).threshold == 6.0
    job = {"anomaly_sensitivity": 1e-6, "anomaly": {"sensitivity": 1e-3}}
    assert detector_for(job, {}).threshold == 3.0


def test_first_new_skips_judged_points_and_bounds_the_backlog():
    stamps = list(range(100))
    assert first_new(stamps, None) == 20          # the baseline needs 20 points before
    assert first_new(stamps, 44) == 45
    assert first_new(stamps, 99) == 100
    assert first_new(stamps, None, since=70) == 70  # since the previous forecast was made
    assert first_new(list(range(MAX_JUDGED + 50)), None) == 50


def test_event_points_only_for_closed_events():
    events = [
        {"start": 1, "end": 4, "peak": 3.0, "state": "closed"},
        {"start": 7, "end": 7, "peak": 2.0, "state": "closed"},
        {"start": 9, "end": 9, "peak": 5.0, "state": "open"},
    ]
    assert event_points(events) == [[1, 3.0], [4, 3.0], [7, 2.0]]
