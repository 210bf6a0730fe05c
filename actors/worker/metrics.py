"""Forecast accuracy measures as the M3/M4 competitions define them, and the Naive2 benchmark.

- MASE: mean absolute error over the mean absolute in-sample seasonal difference (lag m; lag 1
  when the series is not seasonal or too short for lag m).
- sMAPE: 200 * mean(|y - f| / (|y| + |f|)), in percent (M4 definition); a step where both are 0
  counts as 0.
- OWA: the mean of sMAPE and MASE, each relative to the Naive2 benchmark's.
- coverage: the share of actual values inside [lower, upper].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray
# Naive2 deseasonalises when the lag-m autocorrelation passes a 90% test (M4's rule).
SEASONALITY_Z90 = 1.645


def _arrays(*xs: ArrayLike) -> list[np.ndarray]:
    arrays = [np.asarray(x, dtype=np.float64).reshape(-1) for x in xs]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError("arrays differ in length")
    if len(arrays[0]) == 0:
        raise ValueError("no values to score")
    return arrays


def mase_scale(insample: ArrayLike, period: int = 1) -> float:
    """Mean absolute in-sample difference at lag `period` (lag 1 if the series is too short)."""
    y = np.asarray(insample, dtype=np.float64).reshape(-1)
    lag = period if period >= 2 and len(y) > period else 1
    if len(y) <= lag:
        raise ValueError("need at least two in-sample values for the MASE scale")
    return float(np.mean(np.abs(y[lag:] - y[:-lag])))


def mase(actual: ArrayLike, forecast: ArrayLike, insample: ArrayLike, period: int = 1) -> float:
    """Mean absolute scaled error; inf when the in-sample scale is 0 and the error is not."""
    a, f = _arrays(actual, forecast)
    mae = float(np.mean(np.abs(a - f)))
    scale = mase_scale(insample, period)
    if scale == 0.0:
        return 0.0 if mae == 0.0 else math.inf
    return mae / scale


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric mean absolute percentage error in percent (0..200)."""
    a, f = _arrays(actual, forecast)
    denom = np.abs(a) + np.abs(f)
    terms = np.divide(np.abs(a - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(200.0 * np.mean(terms))


def coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actual values within [lower, upper]."""
    a, lo, hi = _arrays(actual, lower, upper)
    return float(np.mean((a >= lo) & (a <= hi)))


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average: mean of sMAPE and MASE relative to Naive2's."""
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)


def is_seasonal(insample: ArrayLike, period: int) -> bool:
    """M4's seasonality test: lag-m autocorrelation beyond 1.645 of its standard error."""
    y = np.asarray(insample, dtype=np.float64).reshape(-1)
    if period < 2 or len(y) < 3 * period:
        return False
    x = y - y.mean()
    denom = float(x @ x)
    if denom == 0.0:
        return False
    acf = np.array([float(x[k:] @ x[:-k]) / denom for k in range(1, period + 1)])
    limit = SEASONALITY_Z90 * math.sqrt((1 + 2 * float(np.sum(acf[:-1] ** 2))) / len(y))
    return abs(acf[-1]) > limit


def seasonal_indices(insample: ArrayLike, period: int) -> np.ndarray:
    """Classical multiplicative decomposition's seasonal indices (mean 1), one per phase."""
    y = np.asarray(insample, dtype=np.float64).reshape(-1)
    n = len(y)
    if period % 2 == 0:
        weights = np.r_[0.5, np.ones(period - 1), 0.5] / period
    else:
        weights = np.ones(period) / period
    trend = np.convolve(y, weights, mode="valid")
    offset = (len(weights) - 1) // 2
    ratios = y[offset: offset + len(trend)] / trend
    phases = (np.arange(len(trend)) + offset) % period
    index = np.array([np.mean(ratios[phases == p]) for p in range(period)])
    index = index / index.mean()
    return index[(np.arange(n) % period)][-period:]  # aligned so that [k] is phase n - m + k


def naive2(insample: ArrayLike, horizon: int, period: int = 1) -> np.ndarray:
    """Naive2: the last value of the seasonally adjusted series, reseasonalised."""
    y = np.asarray(insample, dtype=np.float64).reshape(-1)
    if is_seasonal(y, period) and np.all(y > 0):
        last_season = seasonal_indices(y, period)
        adjusted_last = y[-1] / last_season[-1]
        return adjusted_last * last_season[np.arange(horizon) % period]
    return np.full(horizon, y[-1])
