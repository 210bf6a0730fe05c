"""One job from start to result: read the series, run the model, write outputs, build the result.

This runs in the model child (see runner.py). Failures are `JobError`s (job_errors.py); the
result shapes and output points are in job_results.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from actors.worker.analysis import analyse
from actors.worker.detection import (
    HISTORY_READ,
    Detection,
    detector_for,
    event_points,
    events_name,
    judge_points,
)
from actors.worker.job_errors import JobError, classify, job_settings, precheck
from actors.worker.job_results import forecast_result, model_result, output_points
from actors.worker.rules import rules_field
from actors.worker.siridb_io import (
    DEFAULT_CHUNK_POINTS,
    PRECISION_FACTORS,
    Point,
    SeriesNotFound,
    SiriDB,
    SiriDBQueryFailed,
    SiriDBUnavailable,
    between_query,
    convert_ts,
)
from protocol.jobs import JobKind

log = logging.getLogger(__name__)



class JobRunner:
    """Runs jobs against the input and output SiriDB (connections kept between jobs)."""

    def __init__(
        self, reader: SiriDB, writer: SiriDB, chunk_points: int = DEFAULT_CHUNK_POINTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.chunk_points = chunk_points
        self.clock = clock
        self.model_seconds: float | None = None  # the last job's model call (a metric)

    async def run(self, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Run one job; return its result or raise JobError."""
        started = self.clock()
        self.model_seconds = None
        try:
            problem = precheck(kind, body)
            if problem is not None:
                raise problem
            if kind == "forecast":
                return await self._forecast(body, started)
            return await self._model(kind, body, started)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JOB_FAILED
            error = classify(exc)
            if not isinstance(exc, JobError | SiriDBUnavailable | SeriesNotFound | ValueError):
                log.exception("job %s failed unexpectedly", body.get("job_id"))
            raise error from exc

    async def _read(
        self, series: str, max_points: int, since: int | None = None, until: int | None = None,
    ) -> tuple[list[Point], int]:
        count, last_ts = await self.reader.count(series)
        if count == 0:
            raise JobError("series has no points", False)
        want = min(count, max_points)
        points = await self.reader.read_last(
            series, want, count, last_ts, self.chunk_points, since=since, until=until
        )
        return points, count

    async def _model(self, kind: str, body: Mapping[str, Any], started: float) -> dict[str, Any]:
        from actors.worker.models.registry import get_model

        model = get_model(body["model"])
        params = dict(body.get("model_parameters") or {})
        if "time_precision" not in params:
            params["time_precision"] = await self.reader.precision()
        settings = job_settings(body)
        points, count = await self._read(body["series"], settings.max_points)
        timestamps = [p[0] for p in points]
        values = [p[1] for p in points]
        unit = await self._unit()
        extras = rules_field(body.get("context"), points, unit)
        if kind == JobKind.TRAIN:
            from actors.worker.accuracy import backtest_params, safe_measure

            horizon, level = settings.horizon, settings.interval_level
            params = backtest_params(model, params, horizon, level)
            began = self.clock()
            state = model.train(timestamps, values, params)
            self.model_seconds = self.clock() - began
            accuracy = safe_measure(model, state, timestamps, values, params, horizon, level)
            result = model_result(kind, state, points, count, self.clock() - started)
            result["accuracy"] = accuracy
            result["analysis"] = analyse(timestamps, values, unit, time.time())
            return {**result, **extras}
        began = self.clock()
        state = model.fit(dict(body["state"]), timestamps, values)
        self.model_seconds = self.clock() - began
        return {**model_result(kind, state, points, count, self.clock() - started), **extras}

    async def _unit(self) -> float:
        """Seconds per timestamp tick of the input database."""
        return 1.0 / PRECISION_FACTORS[await self.reader.precision()]

    async def _forecast(self, body: Mapping[str, Any], started: float) -> dict[str, Any]:
        from actors.worker.models.base import Forecast
        from actors.worker.models.registry import get_model

        series = body["series"]
        settings = job_settings(body)
        if body.get("state") is None:
            return await self._cold_start(body, started)
        model = get_model(body["model"])
        began = self.clock()
        forecast = model.forecast(dict(body["state"]), settings.horizon, settings.interval_level)
        self.model_seconds = self.clock() - began
        previous = _previous_forecast(body.get("context"), Forecast)
        detection, points = await self._judge(body, previous, backlog=False)
        forecast_json = forecast.to_json()
        written = await self._write(series, forecast_json, detection.anomalies)
        written += await self._append_events(series, detection.events)
        result = forecast_result(
            forecast_json, detection.anomalies, detection.count, detection.judged,
            self.clock() - started, written,
        )
        rules = rules_field(body.get("context"), points, await self._unit(), forecast_json)
        return {**result, **detection.result_fields(), **rules}

    async def _cold_start(self, body: Mapping[str, Any], started: float) -> dict[str, Any]:
        """No model yet: judge the new points with the cold-start detector; write no forecast."""
        series = body["series"]
        detection, points = await self._judge(body, None)
        source = await self.reader.precision()
        target = await self.writer.precision()
        _, appended = output_points(
            {"timestamps": [], "mean": [], "lower": [], "upper": []}, detection.anomalies,
            series, source, target,
        )
        written = await self._append(appended)
        written += await self._append_events(series, detection.events)
        return {
            "kind": "forecast", "forecast": None, "cold_start": True,
            "anomalies": detection.anomalies, "count": detection.count,
            "points": detection.read,
            "duration": round(self.clock() - started, 6), "written": written,
            **detection.result_fields(),
            **rules_field(body.get("context"), points, await self._unit()),
        }

    async def _judge(
        self, body: Mapping[str, Any], previous: Any, backlog: bool = True
    ) -> tuple[Detection, list[Point]]:
        """Judge the points since the last judged one, with the history before them; return
        the detection and the points read (none when there was nothing to judge).

        Without backlog, a series never judged yet (a model's first forecast, no cold start
        before it: history loaded at once) starts from its next points, not its history.
        """
        settings = body.get("settings") or {}
        detector = detector_for(settings, body.get("context"), job_settings(body).interval_level)
        if not backlog and previous is None and detector.state.last_ts is None:
            count, _ = await self.reader.count(body["series"])
            return Detection(state=detector.state.to_json(), count=count), []
        points, count = await self._read(body["series"], HISTORY_READ)
        detection = judge_points(detector, [p[0] for p in points], [p[1] for p in points],
                                 previous, await self._unit())
        detection.count, detection.read = count, len(points)
        return detection, points

    async def _append_events(self, series: str, events: list[dict[str, Any]]) -> list[str]:
        """Write the closed events (see actors/worker/detection.py) once each."""
        points = event_points(events)
        if not points:
            return []
        source = await self.reader.precision()
        target = await self.writer.precision()
        converted = [[convert_ts(t, source, target), v] for t, v in points]
        return await self._append({events_name(series): converted})

    async def _append(self, appended: dict[str, list[list[Any]]]) -> list[str]:
        """Insert points not yet held by their series; return the names written to."""
        try:
            appended = {name: await self._not_written(name, pts)
                        for name, pts in appended.items()}
            appended = {name: pts for name, pts in appended.items() if pts}
            if appended:
                await self.writer.insert(appended)
        except SiriDBQueryFailed as exc:
            raise _write_refused(exc) from None
        return list(appended)

    async def _write(
        self, series: str, forecast: Mapping[str, Any], anomalies: list[dict[str, Any]]
    ) -> list[str]:
        source = await self.reader.precision()
        target = await self.writer.precision()
        replaced, appended = output_points(forecast, anomalies, series, source, target)
        present = {name: pts for name, pts in replaced.items() if pts}
        try:
            # Replace, not add to: a forecast series holds exactly one forecast.
            for name in replaced:
                await self.writer.drop(name)
            if present:
                await self.writer.insert(present)
        except SiriDBQueryFailed as exc:
            raise _write_refused(exc) from None
        return [*present, *await self._append(appended)]

    async def _not_written(self, name: str, points: list[list[Any]]) -> list[list[Any]]:
        """Drop the anomaly points the series already holds.

        A job can run twice (its worker died after writing, before the hub had the result)
        and SiriDB keeps duplicate timestamps: appending only what is missing keeps each
        anomaly once however often the forecast that found it is redone.
        """
        stamps = [ts for ts, _ in points]
        held = await self.writer.select(between_query(name, min(stamps), max(stamps) + 1), name)
        known = {int(ts) for ts, _ in held}
        return [p for p in points if p[0] not in known]


def _write_refused(exc: SiriDBQueryFailed) -> JobError:
    # Retried like any soft failure: the job's outputs are not what it reports, and a
    # refused drop or insert (SiriDB busy, a threshold, a limit) may pass next time; the
    # hub's max_attempts bounds the retries.
    return JobError(f"SiriDB refused writing the outputs: {exc}", True)


def _previous_forecast(context: Any, forecast_type: Any) -> Any:
    if not isinstance(context, Mapping) or not context.get("previous_forecast"):
        return None
    try:
        return forecast_type.from_json(context["previous_forecast"])
    except ValueError as exc:
        log.warning("ignoring a malformed previous forecast: %s", exc)
        return None
