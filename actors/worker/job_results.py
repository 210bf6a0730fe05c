"""What a job returns to the hub and writes to SiriDB: result shapes and output points."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from actors.worker.siridb_io import Point, convert_ts, output_names


def model_result(
    kind: str, state: dict, points: Sequence[Point], count: int, duration: float
) -> dict[str, Any]:
    """Return the result of a TRAIN_MODEL or FIT_MODEL job."""
    return {
        "kind": kind,
        "state": state,
        "points": len(points),
        "count": count,
        "last_ts": points[-1][0] if points else None,
        "duration": round(duration, 6),
    }


def forecast_summary(forecast: Mapping[str, Any], anomalies: int) -> dict[str, Any]:
    """Return the short summary of a forecast the hub keeps on the series."""
    ts, mean = forecast["timestamps"], forecast["mean"]
    return {
        "horizon": len(ts),
        "start": ts[0] if ts else None,
        "end": ts[-1] if ts else None,
        "mean_first": mean[0] if mean else None,
        "mean_last": mean[-1] if mean else None,
        "anomalies": anomalies,
    }


def forecast_result(
    forecast: dict[str, Any], anomalies: list[dict[str, Any]], count: int, points: int,
    duration: float, written: list[str],
) -> dict[str, Any]:
    """Return the result of a FORECAST_SERIE job."""
    return {
        "kind": "forecast",
        "forecast": forecast,
        "anomalies": anomalies,
        "summary": forecast_summary(forecast, len(anomalies)),
        "count": count,
        "points": points,
        "duration": round(duration, 6),
        "written": written,
    }


def output_points(
    forecast: Mapping[str, Any], anomalies: Sequence[Mapping[str, Any]], series: str,
    source: str, target: str,
) -> tuple[dict[str, list[list[Any]]], dict[str, list[list[Any]]]]:
    """Return (forecast series points, anomaly points) to insert, in the target precision."""
    names = output_names(series)
    stamps = [convert_ts(int(t), source, target) for t in forecast["timestamps"]]
    replaced: dict[str, list[list[Any]]] = {}
    for kind, key in (("forecast", "mean"), ("lower", "lower"), ("upper", "upper")):
        replaced[names[kind]] = [
            [t, float(v)] for t, v in zip(stamps, forecast[key], strict=True) if math.isfinite(v)
        ]
    appended: dict[str, list[list[Any]]] = {}
    if anomalies:
        appended[names["anomalies"]] = [
            [convert_ts(a["timestamp"], source, target), float(a["score"])] for a in anomalies
        ]
    return replaced, appended
