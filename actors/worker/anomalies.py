"""Judge observed points against a forecast: how far outside the prediction interval they fall.

Each point inside the forecast's time range is matched to the forecast by linear interpolation
over the forecast timestamps. Its score is |y - expected| divided by the interval's half-width on
the point's side (expected to upper when above, lower to expected when below), so a score above 1
means exactly "outside the interval"; for a symmetric interval that half-width is
(upper - lower) / 2. Points before the first or after the last forecast timestamp, and non-finite
values, are not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from actors.worker.models.base import Forecast

ANOMALY_THRESHOLD = 1.0
# A zero-width interval (a model certain of its value) still gives a finite, JSON-safe score.
MIN_HALF_WIDTH_RATIO = 1e-9


@dataclass(frozen=True)
class Anomaly:
    """A judged point: its value, the forecast at its time, and its score."""

    timestamp: int
    value: float
    expected: float
    lower: float
    upper: float
    score: float

    @property
    def is_anomalous(self) -> bool:
        """Outside the prediction interval (score > 1)."""
        return self.score > ANOMALY_THRESHOLD

    def to_json(self) -> dict:
        """Plain dict for ujson/json."""
        return {
            "timestamp": self.timestamp,
            "value": self.value,
            "expected": self.expected,
            "lower": self.lower,
            "upper": self.upper,
            "score": self.score,
            "anomalous": self.is_anomalous,
        }


def score_points(
    forecast: Forecast, timestamps: Sequence[int], values: Sequence[float]
) -> list[Anomaly]:
    """Score every point inside the forecast's time range (see the module docstring)."""
    if len(timestamps) != len(values):
        raise ValueError(f"{len(timestamps)} timestamps but {len(values)} values")
    if len(forecast) == 0:
        return []
    first = forecast.timestamps[0]
    # Offsets from the first forecast time: nanosecond timestamps overflow float precision.
    grid = (np.asarray(forecast.timestamps, dtype=np.int64) - first).astype(np.float64)
    ts = np.asarray(timestamps, dtype=np.int64).reshape(-1)
    ys = np.asarray(values, dtype=np.float64).reshape(-1)
    inside = (ts >= first) & (ts <= forecast.timestamps[-1]) & np.isfinite(ys)
    ts, ys = ts[inside], ys[inside]
    at = (ts - first).astype(np.float64)
    expected = np.interp(at, grid, forecast.mean)
    lower = np.interp(at, grid, forecast.lower)
    upper = np.interp(at, grid, forecast.upper)
    half = np.where(ys >= expected, upper - expected, expected - lower)
    half = np.maximum(half, MIN_HALF_WIDTH_RATIO * np.maximum(1.0, np.abs(expected)))
    scores = np.abs(ys - expected) / half
    return [
        Anomaly(int(t), float(y), float(e), float(lo), float(hi), float(sc))
        for t, y, e, lo, hi, sc in zip(ts, ys, expected, lower, upper, scores, strict=True)
    ]


def judge(
    forecast: Forecast,
    timestamps: Sequence[int],
    values: Sequence[float],
    threshold: float = ANOMALY_THRESHOLD,
) -> list[Anomaly]:
    """Only the judged points whose score exceeds threshold (default 1: outside the interval)."""
    return [a for a in score_points(forecast, timestamps, values) if a.score > threshold]
