"""Worker side of anomaly detection: cold-start jobs, settings and state from the job body,
events written to SiriDB once each."""

from __future__ import annotations

import math

from actors.worker.detection import (
    MAX_COLD_START_JUDGED,
    anomaly_settings,
    cold_start_start,
    event_points,
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
    assert first["anomalies"][0]["score"] > 1
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


def test_cold_start_start_skips_judged_points_and_bounds_the_backlog():
    points = [(t, 0.0) for t in range(10)]
    assert cold_start_start(points, None) == 0
    assert cold_start_start(points, 4) == 5
    assert cold_start_start(points, 99) == 10
    many = [(t, 0.0) for t in range(MAX_COLD_START_JUDGED + 50)]
    assert cold_start_start(many, None) == 50


def test_event_points_only_for_closed_events():
    events = [
        {"start": 1, "end": 4, "peak": 3.0, "state": "closed"},
        {"start": 7, "end": 7, "peak": 2.0, "state": "closed"},
        {"start": 9, "end": 9, "peak": 5.0, "state": "open"},
    ]
    assert event_points(events) == [[1, 3.0], [4, 3.0], [7, 2.0]]
