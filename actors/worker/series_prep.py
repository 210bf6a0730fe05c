"""Turn raw SiriDB points into a regular series, and find its seasonal period.

SiriDB timestamps are integers in the database's precision; they can be irregular and can repeat.
`regularize` infers the step (median positive difference), puts each point in the nearest grid
bucket (the mean of a bucket's points is its value), fills gaps of up to `max_gap_steps` missing
buckets by linear interpolation and, when a longer gap exists, keeps only the stretch after the last
one (a model learns nothing useful across an outage). Forecasts then fall on `last_ts + k * step`.

Bad input raises a `SeriesError` (a `ValueError`): the worker can fail such a job without retrying,
since the same data gives the same error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from protocol.models import DEFAULT_MAX_GAP_STEPS, DEFAULT_MAX_PERIOD  # the catalogue's defaults

DEFAULT_MIN_POINTS = 3
# An autocorrelation peak must reach this (or 3/sqrt(n)) and rise this much above the preceding
# trough to count as seasonality: a trending or random-walk series has a high but flat ACF.
MIN_PEAK_ACF = 0.2
MIN_PEAK_PROMINENCE = 0.1
# A divisor of the best lag wins when its peak is nearly as high (noise often favours a multiple).
DIVISOR_TOLERANCE = 0.9
SNAP_TOLERANCE = 1e-3
NICE_STEPS = tuple(
    base * 10**power
    for power in range(10)
    for base in (1, 2, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200,
                 86400, 604800)
)


class SeriesError(ValueError):
    """The points cannot be modelled (too few, constant, malformed)."""


class TooFewPoints(SeriesError):
    """Fewer usable points than a model needs."""


class ConstantSeries(SeriesError):
    """Every value is the same: there is nothing to fit."""


@dataclass(frozen=True)
class RegularSeries:
    """Values on the grid `start + i * step`, with how many buckets held real points."""

    start: int
    step: int
    values: np.ndarray
    observed: int

    def __len__(self) -> int:
        return len(self.values)

    @property
    def last_ts(self) -> int:
        """Timestamp of the last grid point."""
        return self.start + (len(self.values) - 1) * self.step

    @property
    def timestamps(self) -> np.ndarray:
        """Grid timestamps as int64."""
        return self.start + self.step * np.arange(len(self.values), dtype=np.int64)

    def future_timestamps(self, horizon: int) -> list[int]:
        """The `horizon` grid timestamps after the last one."""
        return future_timestamps(self.last_ts, self.step, horizon)


def future_timestamps(last_ts: int, step: int, horizon: int) -> list[int]:
    """`last_ts + k * step` for k = 1..horizon."""
    return [int(last_ts + k * step) for k in range(1, horizon + 1)]


def clean_points(
    timestamps: Sequence[int], values: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of the finite points sorted by time; raise SeriesError on mismatched input."""
    if len(timestamps) != len(values):
        raise SeriesError(f"{len(timestamps)} timestamps but {len(values)} values")
    try:
        ts = np.asarray(timestamps, dtype=np.int64).reshape(-1)
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise SeriesError(f"points are not numbers: {exc}") from None
    keep = np.isfinite(vals)
    ts, vals = ts[keep], vals[keep]
    order = np.argsort(ts, kind="stable")
    return ts[order], vals[order]


def infer_step(timestamps: np.ndarray) -> int:
    """The sampling step: median positive difference, refined by least squares, as an int >= 1.

    The (lower) median alone is biased by gaps and jitter; each difference is therefore turned
    into a whole number of median steps, and the step is the slope of the timestamps on their step
    counts. A result within 0.1% of a round value (1, 2 or 5 x 10^k, or a minute, hour, day or
    week multiple in any precision) is snapped to it.
    """
    unique = np.unique(np.asarray(timestamps, dtype=np.int64))
    diffs = np.diff(unique)
    if len(diffs) == 0:
        raise TooFewPoints("need points at two distinct timestamps to infer the step")
    rough = float(np.percentile(diffs, 50, method="lower"))  # a true difference, never a mean
    counts = np.r_[0.0, np.cumsum(np.round(diffs / rough))]
    offsets = (unique - unique[0]).astype(np.float64)
    spread = counts - counts.mean()
    denom = float(spread @ spread)
    step = float(spread @ (offsets - offsets.mean())) / denom if denom > 0 else rough
    for nice in NICE_STEPS:
        if abs(step / nice - 1.0) <= SNAP_TOLERANCE:
            step = float(nice)
            break
    return max(1, int(round(step)))


def regularize(
    timestamps: Sequence[int],
    values: Sequence[float],
    *,
    step: int | None = None,
    anchor: int | None = None,
    max_gap_steps: int = DEFAULT_MAX_GAP_STEPS,
    min_points: int = DEFAULT_MIN_POINTS,
    max_points: int | None = None,
) -> RegularSeries:
    """Put points on a regular grid (see the module docstring).

    `step` and `anchor` fix the grid (a refit keeps the trained model's grid); otherwise the step is
    inferred and the grid starts at the first timestamp. `max_points` keeps the most recent points.
    """
    ts, vals = clean_points(timestamps, values)
    if len(ts) < min_points:
        raise TooFewPoints(f"{len(ts)} usable points, need at least {min_points}")
    if step is None:
        step = infer_step(ts)
    if step < 1:
        raise SeriesError(f"step must be >= 1, got {step}")
    if anchor is None:
        anchor = int(ts[0])
    # Nearest bucket, in integer arithmetic: timestamps can exceed float precision.
    idx = (ts - anchor + step // 2) // step
    buckets, inverse = np.unique(idx, return_inverse=True)
    sums = np.bincount(inverse, weights=vals)
    means = sums / np.bincount(inverse)

    holes = np.diff(buckets) - 1
    long_gaps = np.flatnonzero(holes > max_gap_steps)
    if len(long_gaps):
        first = long_gaps[-1] + 1
        buckets, means = buckets[first:], means[first:]
    if max_points is not None and len(buckets) and buckets[-1] - buckets[0] + 1 > max_points:
        keep = buckets > buckets[-1] - max_points
        buckets, means = buckets[keep], means[keep]
    if len(buckets) < min_points:
        where = " after the last gap" if len(long_gaps) else ""
        raise TooFewPoints(f"{len(buckets)} regular points{where}, need at least {min_points}")

    offsets = buckets - buckets[0]
    grid = np.arange(int(offsets[-1]) + 1)
    filled = np.interp(grid, offsets, means)
    return RegularSeries(
        start=int(anchor + int(buckets[0]) * step),
        step=int(step),
        values=filled,
        observed=len(buckets),
    )


def regular_series(
    timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any],
    min_points: int, step: int | None = None, anchor: int | None = None,
) -> RegularSeries:
    """The regular grid a model works on: regularize() with the model's max_gap_steps and
    max_train_points (the most recent points); TooFewPoints below min_points."""
    return regularize(
        timestamps, values, step=step, anchor=anchor, max_gap_steps=params["max_gap_steps"],
        min_points=min_points, max_points=params["max_train_points"],
    )


def require_variation(values: np.ndarray) -> None:
    """Raise ConstantSeries when all values are equal."""
    if len(values) and float(np.ptp(values)) == 0.0:
        raise ConstantSeries(f"all {len(values)} values equal {float(values[0])!r}")


def autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation at lags 0..max_lag (FFT), after removing a linear trend."""
    n = len(values)
    t = np.arange(n, dtype=np.float64)
    slope, intercept = np.polyfit(t, values, 1)
    x = values - (slope * t + intercept)
    denom = float(np.dot(x, x))
    if denom == 0.0:
        return np.zeros(max_lag + 1)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(x, size)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    return acov / denom


def detect_period(values: np.ndarray, max_period: int = DEFAULT_MAX_PERIOD) -> int:
    """Seasonal period in steps from the autocorrelation peaks; 0 when none stands out.

    Only periods with at least three cycles in the data are considered.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    cap = min(max_period, n // 3)
    if cap < 2:
        return 0
    acf = autocorrelation(values, cap + 1)
    floor = max(MIN_PEAK_ACF, 3.0 / np.sqrt(n))
    peaks: dict[int, float] = {}
    for lag in range(2, cap + 1):
        here = acf[lag]
        if here <= acf[lag - 1] or here < acf[lag + 1] or here < floor:
            continue
        if here - float(np.min(acf[1:lag])) < MIN_PEAK_PROMINENCE:
            continue
        peaks[lag] = float(here)
    if not peaks:
        return 0
    best = max(peaks, key=lambda lag: peaks[lag])
    for lag in sorted(peaks):
        if best % lag == 0 and peaks[lag] >= DIVISOR_TOLERANCE * peaks[best]:
            return lag
    return best


def choose_period(values: np.ndarray, requested: int | None, max_period: int) -> int:
    """The seasonal period to use: requested when given (0 disables), else detected."""
    if requested is not None:
        return requested
    return detect_period(values, max_period)


def fourier_terms(t: np.ndarray, period: float, order: int) -> np.ndarray:
    """Columns sin/cos(2 pi k t / period) for k = 1..order; an identically zero sine is left out."""
    t = np.asarray(t, dtype=np.float64)
    columns = []
    for k in range(1, order + 1):
        angle = 2.0 * np.pi * k * t / period
        if 2 * k != period:
            columns.append(np.sin(angle))
        columns.append(np.cos(angle))
    if not columns:
        return np.empty((len(t), 0))
    return np.column_stack(columns)


def detect_periods(
    values: np.ndarray, max_period: int = DEFAULT_MAX_PERIOD, max_count: int = 2
) -> list[int]:
    """Seasonal periods, shortest first: the main one, then those left once it is removed.

    Each further period is searched in the series minus a least-squares Fourier fit of the
    periods found so far (e.g. a weekly cycle under a daily one); [] when none stands out.
    """
    values = np.asarray(values, dtype=np.float64)
    t = np.arange(len(values), dtype=np.float64)
    found: list[int] = []
    rest = values
    while len(found) < max_count:
        period = detect_period(rest, max_period)
        if period < 2 or any(period == p for p in found):
            break
        found.append(period)
        design = np.column_stack(
            [np.ones(len(t)), t, *(fourier_terms(t, p, min(10, p // 2)) for p in found)]
        )
        coef, *_ = np.linalg.lstsq(design, values, rcond=None)
        rest = values - design @ coef
    return sorted(found)
