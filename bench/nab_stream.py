"""Replay one NAB file through the worker's own jobs, as the hub would schedule them; cache it.

The expensive part of the NAB bench is the model: a series added with no options gets the
`auto` model, trained when min_data_points have arrived, fitted every fit_every points, trained
again every retrain_every points or retrain_interval seconds of data, and each train or fit
followed by a FORECAST_SERIE job. Here those jobs run through `actors.worker.jobs.JobRunner`
(the code the model child runs) against an in-memory SiriDB that holds the file's points up to
the current one, so nothing at time t sees a point after t. What is kept is the list of
forecast jobs: the row count when each ran and the forecast it made. The cheap part (judging
points against the previous forecast with the detector's views) is replayed from that list by
`bench.nab_judge`, so thresholds can be tuned without running a model again.

The list is cached as JSON under the cache folder, keyed by the file's content, the pipeline
settings and the source of the model code, so a change of either runs the models again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actors.hub.jobs import next_kind
from actors.worker.job_errors import JobError
from actors.worker.jobs import JobRunner
from actors.worker.siridb_io import Point, SeriesNotFound, SiriDB
from bench.nab_data import DataFile, map_files

REPO = Path(__file__).resolve().parent.parent
#: Source files whose change changes the forecasts (and so invalidates the cache).
MODEL_CODE = ("actors/worker/models", "actors/worker/backtest.py", "actors/worker/accuracy.py",
              "actors/worker/series_prep.py")
#: Bumped by hand when the way jobs are replayed here changes.
CACHE_FORMAT = "2"  # 2: after a failed job, the hub's schedule (no train at every point)
SERIES = "nab"


@dataclass(frozen=True)
class Pipeline:
    """The hub's shipped defaults (protocol/settings.py) for a series added with no options."""

    model: str = "auto"
    min_data_points: int = 100
    fit_every: int = 20
    retrain_every: int = 2000
    # The hub's retrain_interval (a day) is wall-clock time, and a replay runs far faster than
    # the data's own clock: as for a series back-filled into a live pipeline, it never fires
    # here. (Firing it on data time would train `auto` 1,800 times, hours on two cores.)
    retrain_interval: float = 0.0
    horizon: int = 24
    interval_level: float = 0.95
    max_points: int = 10_000
    max_attempts: int = 3


class ArraySiriDB(SiriDB):
    """A SiriDB holding one series' first `visible` points (reader) or swallowing writes."""

    def __init__(self, seconds: np.ndarray, values: np.ndarray) -> None:
        self.seconds, self.values = seconds, values
        self.visible = 0

    async def precision(self) -> str:
        return "s"

    async def count(self, name: str) -> tuple[int, int]:
        if self.visible == 0:
            raise SeriesNotFound(name)
        return self.visible, int(self.seconds[self.visible - 1])

    async def read_last(
        self, name: str, want: int, total: int, last_ts: int, chunk_points: int = 0,
        since: int | None = None, until: int | None = None,
    ) -> list[Point]:
        stamps = self.seconds[:self.visible]
        hi = self.visible if until is None else int(np.searchsorted(stamps, until, "left"))
        lo = 0 if since is None else int(np.searchsorted(stamps, since, "left"))
        lo = max(lo, hi - want)
        return [(int(t), float(v)) for t, v in zip(stamps[lo:hi], self.values[lo:hi],
                                                   strict=True)]

    async def insert(self, data: dict[str, list[list[Any]]]) -> None:
        return None

    async def drop(self, name: str) -> None:
        return None

    async def select(self, text: str, name: str) -> list[Any]:
        return []

    def close(self) -> None:
        return None


def code_version() -> str:
    """A hash of the model code's source (see MODEL_CODE)."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for entry in MODEL_CODE:
        path = REPO / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def cache_path(
    cache_dir: Path, data: DataFile, cfg: Pipeline, version: str, bulk: int = 1
) -> Path:
    """Where the forecast jobs of this file, settings and code are kept."""
    digest = hashlib.sha256(data.values.tobytes() + data.seconds.tobytes())
    if bulk != 1:
        digest.update(f"bulk {bulk}".encode())
    digest.update(json.dumps(asdict(cfg), sort_keys=True).encode())
    digest.update(version.encode())
    stem = data.name.replace("/", "__").removesuffix(".csv")
    return cache_dir / f"{stem}-{digest.hexdigest()[:16]}.json"


@dataclass
class Schedule:
    """The hub's counters of one series that decide its next job (actors/hub/series.py)."""

    points: int = 0
    since_fit: int = 0
    since_train: int = 0
    trained_at: float | None = None    # data time of the last successful train
    train_failed: bool = False         # the last train failed (the hub then waits fit_every)
    requested: str | None = None       # never set here: no operator asks for jobs

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return {"train": {"state": "failed" if self.train_failed else "done"}}

    def arrived(self) -> None:
        self.points += 1
        self.since_fit += 1
        self.since_train += 1

    def done(self, kind: str, t: float) -> None:
        """A job succeeded (actors/hub/results.py apply_result): its counters start again."""
        self.since_fit = 0  # the replay runs a job at once: no point arrives meanwhile
        if kind == "train":
            self.trained_at, self.since_train, self.train_failed = t, 0, False

    def failed(self, kind: str) -> None:
        """A job failed for good (scheduler._record_failure): only a train resets a counter,
        so the hub waits fit_every points before the next train (with cold-start forecast
        jobs meanwhile), but tries a failed fit or forecast again at the next point."""
        if kind == "train":
            self.since_train, self.train_failed = 0, True


def run_jobs(
    data: DataFile, cfg: Pipeline, bulk: int = 1, model: bool = True
) -> list[dict[str, Any]]:
    """[{rows, forecast}]: each forecast job's visible row count and forecast (None: cold).

    The first `bulk` points arrive at once (history loaded in one insert), the rest one by one.
    Without the model the hub's schedule is the same as for a model that never fails (a train
    or fit, then a forecast, every fit_every points) but no job runs: every forecast is None,
    and only the views that do not read the model's forecast see anything.
    """
    logging.getLogger("actors.worker").setLevel(logging.ERROR)
    reader = ArraySiriDB(data.seconds, data.values)
    runner = JobRunner(reader, ArraySiriDB(data.seconds, data.values))
    loop = asyncio.new_event_loop()
    settings = {"horizon": cfg.horizon, "interval_level": cfg.interval_level,
                "max_points": cfg.max_points}
    state: dict | None = None
    sched = Schedule(points=bulk - 1, since_fit=bulk - 1, since_train=bulk - 1)
    out: list[dict[str, Any]] = []

    def run(kind: str, body: dict) -> dict | None:
        """The job's result, or None when it failed for good (after max_attempts tries of
        a failure the worker calls worth retrying, as the hub does)."""
        for attempt in range(cfg.max_attempts):
            try:
                return loop.run_until_complete(runner.run(kind, dict(body, attempt=attempt)))
            except JobError as exc:
                if not exc.retry:
                    return None
        return None

    try:
        for i in range(bulk - 1, len(data.values)):
            reader.visible = i + 1
            t = int(data.seconds[i])
            sched.arrived()
            kind = _next_kind(cfg, sched, t)
            if kind is None:
                continue
            body = {"job_id": str(i), "series": SERIES, "model": cfg.model,
                    "model_parameters": {}, "state": state, "settings": settings, "context": {}}
            if not model:
                state = state if kind == "forecast" else {}
                sched.done(kind, t)
                out.append({"rows": i + 1, "forecast": None})
                continue
            if kind in ("train", "fit"):
                result = run(kind, body)
                if result is None:  # the old model (if any) stays, as on the hub
                    sched.failed(kind)
                    continue
                state = body["state"] = result["state"]
                sched.done(kind, t)
            # After a train or fit the hub queues a forecast at once (scheduler._finish).
            result = run("forecast", body)
            if result is None:
                sched.failed("forecast")
                continue
            sched.done("forecast", t)
            out.append({"rows": i + 1, "forecast": result["forecast"]})
    finally:
        loop.close()
    return out


def _next_kind(cfg: Pipeline, sched: Schedule, now: float) -> str | None:
    """The job the hub queues now: the hub's own rule (actors/hub/jobs.py next_kind), with
    data time for its wall clock."""
    settings = {"min_data_points": cfg.min_data_points, "fit_every": cfg.fit_every,
                "retrain_every": cfg.retrain_every, "retrain_interval": cfg.retrain_interval}
    return next_kind(sched, settings, now)  # type: ignore[arg-type] - the fields it reads


def cached_jobs(
    data: DataFile, cfg: Pipeline, cache_dir: Path, version: str, bulk: int = 1
) -> list[dict]:
    """The forecast jobs of a file, from the cache or run now (and cached)."""
    path = cache_path(cache_dir, data, cfg, version, bulk)
    if path.exists():
        return json.loads(path.read_text())
    jobs = run_jobs(data, cfg, bulk)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(jobs))
    tmp.replace(path)
    return jobs


def _cached_job(args: tuple[DataFile, Pipeline, Path, str]) -> list[dict]:
    return cached_jobs(*args)


def all_jobs(
    files: list[DataFile], cfg: Pipeline, cache_dir: Path, processes: int, model: bool = True
) -> list[list[dict]]:
    """The forecast jobs of every file, largest files first over `processes` processes."""

    if not model:
        return [run_jobs(f, cfg, model=False) for f in files]
    version = code_version()
    work = [(f, cfg, cache_dir, version) for f in files]
    return map_files(_cached_job, work, files, processes)
