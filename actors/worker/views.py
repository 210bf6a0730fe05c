"""Views of each new point: how surprising it is, seen several ways, as -log10 of a probability.

A forecast job judges the points that arrived since the previous one. Each view reads a point
against something made before it arrived and says how rare a deviation that large is, as a
surprise s = -log10(p) (s = 4: one in 10,000). The views (see docs/anomalies.md for why these):

- forecast: the residual from the series' model forecast (the band people see), with p from the
  normal law implied by the band (half-width = z(level) sigma);
- seasonal: the residual from the robust seasonal baseline of the history (baseline.py);
- level: the mean of the last LEVEL_WINDOW seasonal residuals, each clipped: a shift too small
  for any single point, while one spike moves it by at most 1/LEVEL_WINDOW of the clip;
- spread: the mean absolute residual of the last SPREAD_WINDOW points, above its median (a burst
  of noise, a variance change).

Every view but the forecast's reads its statistic against the same statistic over the baseline's
own errors (one-step errors for the seasonal view; for level and spread, the errors as a job's
20 points are judged, against a level fixed at the job's start): p = 100^(-x / q99) up to the
99th percentile q99, then one decade per (q99.9 - q99) beyond it (`tail_surprise`), so each
view is calibrated on the series it judges.

Nothing here decides: the detector (detector.py) combines the views with the settings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from actors.worker.baseline import (
    CHUNK,
    ERROR_POINTS,
    TAIL_FLOOR,
    Baseline,
    fit_baseline,
    tail_quantiles,
)

LEVEL_WINDOW = 12
SPREAD_WINDOW = 24
#: Surprise at which a view's band is drawn in the state of the art before this (p = 1e-4).
CLIP_SURPRISE = 4.0
MAX_SURPRISE = 50.0
MIN_HALF_RATIO = 1e-9


@dataclass(frozen=True)
class Observation:
    """One new point, what the baseline and the forecast expected, and each view's surprise."""

    timestamp: int
    value: float
    baseline: float                 # the seasonal baseline's expected value
    scale: float                    # the baseline's q99 (|d| = q99: p = 0.01)
    forecast: tuple[float, float, float] | None  # the model's (expected, lower, upper)
    surprise: dict[str, float] = field(default_factory=dict)
    deviation: dict[str, float] = field(default_factory=dict)  # signed, per directed view


@dataclass
class ViewState:
    """What the views carry from one job to the next: recent residuals."""

    residuals: list[float] = field(default_factory=list)   # clipped, for the level view
    errors: list[float] = field(default_factory=list)      # one-step, for the spread view

    @classmethod
    def restore(cls, raw: Mapping[str, Any] | None) -> ViewState:
        """From the detector state's `views` (anything malformed starts afresh)."""
        if not isinstance(raw, Mapping):
            return cls()
        try:
            return cls([float(x) for x in raw.get("residuals", [])][-LEVEL_WINDOW:],
                       [float(x) for x in raw.get("errors", [])][-SPREAD_WINDOW:])
        except (TypeError, ValueError):
            return cls()

    def to_json(self) -> dict[str, list[float]]:
        """Plain dict for ujson/json."""
        return {"residuals": self.residuals, "errors": self.errors}


def normal_surprise(z: float) -> float:
    """-log10 of the two-sided normal tail probability beyond |z|."""
    z = abs(z)
    if z > 15.0:  # beyond MAX_SURPRISE already (and erfc underflows further out)
        return MAX_SURPRISE
    return min(MAX_SURPRISE, -math.log10(max(math.erfc(z / math.sqrt(2.0)), 1e-300)))


def tail_surprise(deviation: float, q99: float, q999: float) -> float:
    """2 |d| / q99 up to q99, then one more per (q999 - q99) beyond it (baseline.py)."""
    d = abs(deviation)
    if d <= q99:
        return 2.0 * d / q99
    return min(MAX_SURPRISE, 2.0 + (d - q99) / (q999 - q99))


def forecast_surprise(value: float, band: tuple[float, float, float], level: float) -> float:
    """The forecast view: the band's half-width on the point's side is z(level) sigma."""
    expected, lower, upper = band
    deviation = value - expected
    half = upper - expected if deviation >= 0 else expected - lower
    half = max(half, MIN_HALF_RATIO * max(1.0, abs(expected)))
    z_level = _normal_quantile(level)
    return normal_surprise(deviation / half * z_level)


def _normal_quantile(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf((1.0 + level) / 2.0)


@dataclass(frozen=True)
class Scales:
    """Each windowed view's own tail, from the same windows over the baseline's errors."""

    level: tuple[float, float]            # q99, q999 of |mean of LEVEL_WINDOW errors|
    spread: tuple[float, float, float]    # median, q99, q999 of the mean of SPREAD_WINDOW |e|

    @classmethod
    def of(cls, errors: np.ndarray, clip: float) -> Scales | None:
        """The scales of these signed one-step errors; None when too few to tell."""
        if len(errors) < 4 * SPREAD_WINDOW:
            return None
        clipped = np.clip(errors, -clip, clip)
        level = tail_quantiles(np.abs(sliding_window_view(clipped, LEVEL_WINDOW).mean(axis=1)))
        means = sliding_window_view(np.abs(errors), SPREAD_WINDOW).mean(axis=1)
        median = float(np.median(means))
        return cls(level, (median, *tail_quantiles(means - median)))


def _floored(q99: float, q999: float) -> tuple[float, float]:
    """A usable tail: q99 > 0 and q999 at least TAIL_FLOOR * q99."""
    q99 = max(q99, 1e-12)
    return q99, max(q999, TAIL_FLOOR * q99)


def observe(
    timestamps: Sequence[int], values: Sequence[float], start: int, state: ViewState,
    forecast: Sequence[tuple[float, float, float] | None] | None = None, level: float = 0.95,
    unit: float = 1.0, error_points: int = ERROR_POINTS,
) -> list[Observation]:
    """Observations of points[start:], each CHUNK against the baseline of the points before it.

    A job's backlog is judged as if its points had come in jobs of fit_every (20) points.

    forecast, when given, holds the model's band for each of points[start:] (None where the
    forecast does not cover the point); unit is the seconds per timestamp unit (the baseline
    snaps its period to an hour, a day or a week); error_points is the baseline's calibration
    window. Non-finite values get no observation.
    """
    out: list[Observation] = []
    for chunk in range(start, len(values), CHUNK):
        stop = min(len(values), chunk + CHUNK)
        bands = None if forecast is None else forecast[chunk - start:stop - start]
        out += _observe_chunk(timestamps, values, chunk, stop, state, bands, level, unit,
                              error_points)
    return out


def _observe_chunk(
    timestamps: Sequence[int], values: Sequence[float], start: int, stop: int, state: ViewState,
    forecast: Sequence[tuple[float, float, float] | None] | None, level: float, unit: float,
    error_points: int = ERROR_POINTS,
) -> list[Observation]:
    """Observations of points[start:stop] against the baseline of points[:start]."""
    history = np.asarray(values[:start], dtype=np.float64)
    stamps = np.asarray(timestamps[:start], dtype=np.float64)
    history, stamps = history[np.isfinite(history)], stamps[np.isfinite(history)]
    step = unit * float(np.median(np.diff(stamps))) if len(stamps) > 1 else 1.0
    base = fit_baseline(history, step, error_points)
    usable = math.isfinite(base.q99) and math.isfinite(base.level)
    q99 = max(base.q99, MIN_HALF_RATIO * max(1.0, abs(base.level))) if usable else math.nan
    scales = Scales.of(base.errors, CLIP_SURPRISE / 2.0 * q99) if usable else None
    out = []
    for h, i in enumerate(range(start, stop)):
        value = float(values[i])
        if not math.isfinite(value):
            continue
        band = forecast[h] if forecast is not None and h < len(forecast) else None
        surprise: dict[str, float] = {}
        deviation: dict[str, float] = {}
        if band is not None and all(math.isfinite(x) for x in band):
            surprise["forecast"] = forecast_surprise(value, band, level)
            deviation["forecast"] = value - band[0]
        else:
            band = None
        expected = base.expected(h) if usable else math.nan
        if usable:
            deviation["seasonal"] = value - expected
            _seasonal_views(value - expected, base, q99, scales, state, surprise)
            if state.residuals:
                deviation["level"] = sum(state.residuals) / len(state.residuals)
        out.append(Observation(int(timestamps[i]), value, expected, q99, band, surprise,
                               deviation))
    return out


def _seasonal_views(
    deviation: float, base: Baseline, q99: float, scales: Scales | None, state: ViewState,
    surprise: dict[str, float],
) -> None:
    """The seasonal, level and spread views of one residual; updates the state."""
    surprise["seasonal"] = tail_surprise(deviation, *_floored(q99, base.q999))
    clip = CLIP_SURPRISE / 2.0 * q99  # one spike moves the level's mean by at most this / 12
    state.residuals = (state.residuals + [max(-clip, min(clip, deviation))])[-LEVEL_WINDOW:]
    # The residual is from shape + level, as the baseline's one-step errors are.
    state.errors = (state.errors + [abs(deviation)])[-SPREAD_WINDOW:]
    if scales is None:
        return
    if len(state.residuals) == LEVEL_WINDOW:
        mean = sum(state.residuals) / LEVEL_WINDOW
        surprise["level"] = tail_surprise(mean, *_floored(*scales.level))
    if len(state.errors) == SPREAD_WINDOW:
        median, *tail = scales.spread
        excess = max(0.0, sum(state.errors) / SPREAD_WINDOW - median)
        surprise["spread"] = tail_surprise(excess, *_floored(*tail))
