"""A fast robust seasonal forecaster for the NAB bench, behind the model contract.

Refitted every few points on thousands of points, it must cost about a millisecond, so it is
made of medians rather than fitted by optimisation:

- period: the autocorrelation period of the history (`series_prep.detect_period`), snapped to an
  hour, a day or a week of the series' step when within 5%, and widened to a week when the
  weekly lag correlates better (a daily cycle that differs on weekends);
- baseline: for each future step, the median of the values one to CYCLES periods earlier at the
  same phase and NEIGHBOURS steps either side (none without a period);
- level: the median of the last LEVEL_POINTS deviations from that baseline;
- interval: from the model's own one-step errors over the last ERROR_POINTS points; their 99th
  percentile q gives the half-width q * ln(1 / (1 - level)) / ln(100), an exponential tail
  through q (level 0.99 gives q itself, 0.9999 twice q): forecast errors have heavier tails than
  a normal law, and a quantile of the errors keeps outliers from inflating the scale.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from actors.worker.models.base import Forecast, check_forecast_args
from actors.worker.series_prep import autocorrelation, detect_period

CYCLES = 3
NEIGHBOURS = 2
LEVEL_POINTS = 20
ERROR_POINTS = 2000
MAX_PERIOD = 500
MAX_WEEK = 3000
SNAP = 0.05
CALENDAR = (3600, 86400, 604800)


def choose_period(values: np.ndarray, step: float) -> int:
    """The seasonal period in steps (0: none), see the module docstring."""
    if len(values) < 30:
        return 0
    period = detect_period(values, MAX_PERIOD)
    if period == 0:
        return 0
    for seconds in CALENDAR:
        steps = seconds / step
        if steps >= 2 and abs(period - steps) <= SNAP * steps:
            period = int(round(steps))
            break
    week = int(round(604800 / step))
    if week % period == 0 and week != period and CYCLES * week <= len(values) and week <= MAX_WEEK:
        acf = autocorrelation(values, week)
        if acf[week] > acf[period]:
            return week
    return period


def _shifted_medians(values: np.ndarray, period: int, start: int, stop: int) -> np.ndarray:
    """For start <= t < stop: the median of values[t - j*period + k], 1 <= j <= CYCLES, |k| <= 2."""
    t = np.arange(start, stop)
    columns = []
    for j in range(1, CYCLES + 1):
        for k in range(-NEIGHBOURS, NEIGHBOURS + 1):
            idx = t - j * period + k
            valid = (idx >= 0) & (idx < len(values))
            columns.append(np.where(valid, values[np.clip(idx, 0, len(values) - 1)], np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(np.column_stack(columns), axis=1)


def _one_step_errors(deviation: np.ndarray, width: int) -> np.ndarray:
    """|d[i] - median(d[i - width:i])| for every i with a full window, finite ones only."""
    if len(deviation) <= width:
        return np.empty(0)
    medians = np.median(sliding_window_view(deviation[:-1], width), axis=1)
    errors = np.abs(deviation[width:] - medians)
    return errors[np.isfinite(errors)]


class RobustSeasonalModel:
    """train/fit/forecast like the worker's models; the state is a plain dict."""

    name = "robust_seasonal"

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Choose the period from the history, then fit."""
        ts = np.asarray(timestamps, dtype=np.float64)
        step = float(np.median(np.diff(ts))) if len(ts) > 1 else 1.0
        period = choose_period(np.asarray(values, dtype=np.float64), max(step, 1e-9))
        state = {"model": self.name, "step": step, "period": period, "params": dict(params)}
        return self.fit(state, timestamps, values)

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Keep the period; recompute baseline, level and error quantile from the history."""
        y = np.asarray(values, dtype=np.float64)
        period = state["period"] if len(y) >= 2 * state["period"] + NEIGHBOURS + 1 else 0
        tail = min(len(y), ERROR_POINTS + LEVEL_POINTS)
        if period:
            base = _shifted_medians(y, period, len(y) - tail, len(y) + period)
            deviation = y[-tail:] - base[:tail]
            future = base[tail:]
        else:
            deviation = y[-tail:].copy()
            future = np.zeros(1)
        level = float(np.nanmedian(deviation[-LEVEL_POINTS:]))
        errors = _one_step_errors(deviation, LEVEL_POINTS)
        q99 = float(np.quantile(errors, 0.99)) if len(errors) >= 20 else float("nan")
        if q99 == 0.0:
            # Over 99% exact (a noise-free cycle): the rare misses, e.g. at a square wave's
            # edges, are the only errors there are; cover them rather than claim certainty.
            q99 = float(np.max(errors))
        return {
            **state, "used_period": period, "last_ts": int(timestamps[-1]), "level": level,
            "future": [float(v) for v in future], "q99": q99,
        }

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """`horizon` steps after the last point, with the interval of the module docstring."""
        check_forecast_args(horizon, level)
        future = np.asarray(state["future"], dtype=np.float64)
        steps = np.arange(horizon)
        mean = future[steps % len(future)] + state["level"]
        mean = np.where(np.isfinite(mean), mean, state["level"])
        q99 = state["q99"]
        half = q99 * math.log(1.0 / (1.0 - level)) / math.log(100.0)
        if not math.isfinite(half):
            half = math.inf
        stamps = [int(round(state["last_ts"] + (h + 1) * state["step"])) for h in steps]
        return Forecast(stamps, [float(m) for m in mean], [float(m - half) for m in mean],
                        [float(m + half) for m in mean], level)
