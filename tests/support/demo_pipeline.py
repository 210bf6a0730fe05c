"""The demo's sensors through the worker's real job code, scheduled as the hub schedules them.

A series gets its history, is trained, then takes new points one at a time; every
`fit_every` points the model is fitted (trained again past `retrain_every`) and a forecast
job judges the points since the previous forecast against it, with the detector state kept
between jobs as the hub keeps it. SiriDB is the in-memory one; the models and the detector
are the worker's own (JobRunner).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from actors.worker.jobs import JobRunner
from scripts.demo_data import SENSOR_HISTORY, Sensor, sensor_points
from tests.support.memory_siridb import MemorySiriDB


@dataclass
class Schedule:
    """The hub's settings that decide when jobs run (the demo's values)."""

    fit_every: int = 20
    retrain_every: int = 2000
    horizon: int = 24
    interval_level: float = 0.95
    max_points: int = 10_000


@dataclass
class SeriesRun:
    """What the detector said about one series."""

    name: str
    judged: int = 0
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    events: dict[int, dict[str, Any]] = field(default_factory=dict)


def run_sensor(sensor: Sensor, points: int, schedule: Schedule | None = None) -> SeriesRun:
    """Feed `points` live points of sensor after its history; return what was found."""
    history = sensor_points(sensor, 0, SENSOR_HISTORY)
    live = sensor_points(sensor, SENSOR_HISTORY, SENSOR_HISTORY + points)
    return run_series(sensor.name, sensor.model, history, live, dict(sensor.anomaly), schedule)


def run_series(name: str, model: str, history: list[list[float]], live: list[list[float]],
               anomaly: dict[str, Any], schedule: Schedule | None = None) -> SeriesRun:
    """Load history, then feed live points as the pipeline would; return what was found."""
    return asyncio.run(_run(name, model, history, live, anomaly, schedule or Schedule()))


async def _run(name: str, model: str, history: list[list[float]], live: list[list[float]],
               anomaly: dict[str, Any], schedule: Schedule) -> SeriesRun:
    db = MemorySiriDB({name: list(history)})
    runner = JobRunner(db, db, chunk_points=5000)
    settings = {"horizon": schedule.horizon, "interval_level": schedule.interval_level,
                "max_points": schedule.max_points, "anomaly": anomaly}
    run = SeriesRun(name)
    state: dict[str, Any] | None = None
    context: dict[str, Any] = {}
    since_train = 0
    for start in range(0, len(live) + 1, schedule.fit_every):
        db.series[name] += live[max(0, start - schedule.fit_every):start]
        kind = "train" if state is None or since_train >= schedule.retrain_every else "fit"
        job = _body(name, model, None if kind == "train" else state, settings)
        state = (await runner.run(kind, job))["state"]
        since_train = 0 if kind == "train" else since_train + schedule.fit_every
        result = await runner.run("forecast", {**_body(name, model, state, settings),
                                               "context": context})
        run.judged += result["judged"]
        run.anomalies += result["anomalies"]
        for event in result["events"]:
            run.events[event["id"]] = event
        context = {"previous_forecast": result["forecast"], "detector": result["detector"]}
    return run


def _body(name: str, model: str, state: dict[str, Any] | None,
          settings: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": "demo", "series": name, "model": model, "model_parameters": {},
            "state": state, "settings": settings, "attempt": 0}
