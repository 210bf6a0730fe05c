"""A robust seasonal baseline of a series' recent history: what the anomaly views compare with.

It must be cheap enough to rebuild on every forecast job from thousands of points, so it is made
of medians rather than fitted by optimisation (it was the NAB bench's forecaster; see
docs/anomalies.md):

- period: the autocorrelation period of the history (`series_prep.detect_period`), snapped to an
  hour, a day or a week of the series' step when within 5%, and widened to a week when the
  weekly lag correlates better (a daily cycle that differs on weekends); none on short histories;
- shape: for each coming step, the median of the values one to CYCLES periods earlier at the
  same phase and NEIGHBOURS steps either side (zero without a period);
- level: the median of the last LEVEL_POINTS deviations from that shape;
- errors: the baseline's own one-step errors over the last ERROR_POINTS points (the calibration
  window; a job may pass another, the NAB bench chooses among CALIBRATIONS), and their 99th
  and 99.9th percentiles q99 and q999: the views read a deviation d as having tail probability
  100^(-d / q99) up to q99, and beyond it 0.01 * 10^(-(d - q99) / (q999 - q99)): an exponential
  tail fitted to the series' own errors, so that a bursty series (heavy tail, q999 far beyond
  q99) is not held to the decay of a smooth one. Quantiles keep outliers from inflating the
  scale. A 1-in-1,000 decision reads q999, and from 2,000 errors that is the second largest
  error: the window is 5,000 (q999 the fifth largest), chosen leave one group out on NAB
  (docs/anomalies.md).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from actors.worker.series_prep import autocorrelation, detect_period

CYCLES = 3
#: Points judged against one baseline (a job's new points; views.py judges backlogs in chunks).
CHUNK = 20
NEIGHBOURS = 2
LEVEL_POINTS = 20
ERROR_POINTS = 5000
#: The calibration windows `python -m bench.nab` chooses among (leave one group out).
CALIBRATIONS = (2000, 5000, 10000)
MIN_PERIOD_POINTS = 30
MAX_PERIOD = 500
MAX_WEEK = 3000
SNAP = 0.05
CALENDAR = (3600, 86400, 604800)
#: The 99th percentile of |normal| over its MAD-based sigma, for histories too short for q99.
Q99_PER_MAD = 2.576 * 1.4826
#: The tail is never taken lighter than a normal law's: q99.9 / q99 = 3.29 / 2.58 there.
TAIL_FLOOR = 1.28


def history_points(error_points: int = ERROR_POINTS) -> int:
    """The history a baseline with this calibration window can use at most: a weekly cycle
    of 5-minute points, three times, and the error window."""
    return CYCLES * MAX_WEEK + error_points + LEVEL_POINTS + NEIGHBOURS


def choose_period(values: np.ndarray, step: float) -> int:
    """The seasonal period in steps (0: none), see the module docstring."""
    if len(values) < MIN_PERIOD_POINTS:
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
    fits = 2 <= week <= MAX_WEEK and CYCLES * week <= len(values)
    if fits and week % period == 0 and week != period:
        acf = autocorrelation(values, week)
        if len(acf) > week and acf[week] > acf[period]:
            return week
    return period


def _shifted_medians(values: np.ndarray, period: int, start: int, stop: int) -> np.ndarray:
    """For start <= t < stop: the median of values[t - j*period + k], 1 <= j <= CYCLES, |k| <= 2."""
    t = np.arange(start, stop)
    offsets = np.array([j * period - k for j in range(1, CYCLES + 1)
                        for k in range(-NEIGHBOURS, NEIGHBOURS + 1)])
    idx = t[:, None] - offsets[None, :]
    valid = (idx >= 0) & (idx < len(values))
    table = values[np.clip(idx, 0, len(values) - 1)]
    full = valid.all(axis=1)
    out = np.empty(len(t))
    out[full] = np.median(table[full], axis=1)  # most rows: every cycle is there
    if not full.all():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[~full] = np.nanmedian(np.where(valid, table, np.nan)[~full], axis=1)
    return out


def one_step_errors(
    deviation: np.ndarray, width: int = LEVEL_POINTS, chunk: int = 1
) -> np.ndarray:
    """d[i] - the level (median of `width` deviations) as it was when i's chunk began.

    Signed, finite ones only. With chunk 1 the level just before each point; with the CHUNK the
    views judge at once, the errors the baseline makes as it is used (a level that drifts in a
    trend moves further from the last points of a chunk than from the first).
    """
    if len(deviation) <= width:
        return np.empty(0)
    at = np.arange(len(deviation) - width)
    starts = at[::chunk]  # the level is taken where each chunk begins, and held
    windows = sliding_window_view(deviation[:-1], width)[starts]
    medians = np.repeat(np.median(windows, axis=1), chunk)[: len(at)]
    errors = deviation[width:] - medians
    return errors[np.isfinite(errors)]


def tail_quantiles(values: np.ndarray) -> tuple[float, float]:
    """The 99th and 99.9th percentiles of non-negative values (q99 > 0 when any is)."""
    q99, q999 = (float(q) for q in np.quantile(values, (0.99, 0.999)))
    if q99 == 0.0:
        # Over 99% exact (a noise-free cycle): the rare misses, e.g. at a square wave's
        # edges, are the only errors there are; cover them rather than claim certainty.
        q99 = float(np.max(values))
    return q99, q999


@dataclass(frozen=True)
class Baseline:
    """Expected values of the coming steps, the level, and the one-step error scale."""

    period: int
    shape: np.ndarray     # the seasonal shape of the coming steps (one period, or [0])
    level: float
    q99: float            # of the one-step errors; NaN when the history is too short to tell
    q999: float           # their 99.9th percentile, at least TAIL_FLOOR * q99
    errors: np.ndarray    # errors as judged (chunks), signed: the windowed views' calibration

    def expected(self, step: int) -> float:
        """The value expected `step` points after the history (0: the next point)."""
        value = float(self.shape[step % len(self.shape)]) + self.level
        return value if math.isfinite(value) else self.level


def fit_baseline(values: np.ndarray, step: float, error_points: int = ERROR_POINTS) -> Baseline:
    """The baseline of this history (oldest first) for the points that follow it; its errors
    over the last `error_points` points."""
    y = np.asarray(values, dtype=np.float64)
    period = choose_period(y, max(step, 1e-9))
    if len(y) < 2 * period + NEIGHBOURS + 1:
        period = 0
    tail = min(len(y), error_points + LEVEL_POINTS)
    if period:
        base = _shifted_medians(y, period, len(y) - tail, len(y) + period)
        deviation, shape = y[-tail:] - base[:tail], base[tail:]
    else:
        deviation, shape = y[-tail:].copy(), np.zeros(1)
    finite = deviation[np.isfinite(deviation)]
    level = float(np.median(finite[-LEVEL_POINTS:])) if len(finite) else math.nan
    errors = one_step_errors(deviation, chunk=CHUNK)
    q999 = math.nan
    if len(errors) >= LEVEL_POINTS:
        q99, q999 = tail_quantiles(np.abs(one_step_errors(deviation)))
    elif len(finite) >= LEVEL_POINTS:
        # Too short for its own errors (cold start): the normal law's q99 from the MAD.
        q99 = Q99_PER_MAD * float(np.median(np.abs(finite - level)))
    else:
        q99 = math.nan
    if not q999 >= TAIL_FLOOR * q99:  # NaN too: a short history says nothing of its tail
        q999 = TAIL_FLOOR * q99
    return Baseline(period, shape, level, q99, q999, errors)
