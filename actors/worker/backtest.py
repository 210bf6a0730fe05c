"""Rolling-origin backtests: train up to an origin, forecast, score against what came next.

Origins are the last `origins` cut points spaced `max(1, horizon // origins)` steps apart, the
latest leaving exactly `horizon` points to forecast; a history too short for the full horizon
gets a shorter one, and one too short for even a step gets none. Scores are MASE (scaled by the
in-sample seasonal difference at each origin), sMAPE and interval coverage, averaged over the
origins; a combination of candidates is scored from their stored forecasts at no extra cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from actors.worker import metrics
from actors.worker.models.base import Model

#: Fewest points a model is trained on in a backtest.
MIN_TRAIN = 10


@dataclass(frozen=True)
class Plan:
    """Where to cut the history and how far to forecast from each cut."""

    cuts: list[int]
    horizon: int


@dataclass(frozen=True)
class Trial:
    """One candidate's forecasts (mean, lower, upper) at each cut of a plan."""

    means: list[np.ndarray]
    lowers: list[np.ndarray]
    uppers: list[np.ndarray]


def plan_backtest(n: int, horizon: int, origins: int, period: int = 1) -> Plan | None:
    """Cut points for a series of n points; None when it is too short for any backtest."""
    min_train = max(MIN_TRAIN, 2 * period + 2 if period >= 2 else 0)
    horizon = min(horizon, n - min_train)
    if horizon < 1 or origins < 1:
        return None
    spacing = max(1, horizon // origins)
    cuts = [n - horizon - i * spacing for i in range(origins)]
    cuts = sorted(c for c in cuts if c >= min_train)
    return Plan(cuts, horizon) if cuts else None


def run_trial(
    model: Model, timestamps: Sequence[int], values: np.ndarray, params: Mapping[str, Any],
    plan: Plan, level: float,
) -> Trial:
    """Train the model at each cut and forecast the plan's horizon; exceptions propagate."""
    means, lowers, uppers = [], [], []
    for cut in plan.cuts:
        state = model.train(timestamps[:cut], values[:cut], params)
        steps = min(plan.horizon, len(values) - cut)
        forecast = model.forecast(state, steps, level)
        means.append(np.asarray(forecast.mean))
        lowers.append(np.asarray(forecast.lower))
        uppers.append(np.asarray(forecast.upper))
    return Trial(means, lowers, uppers)


def aggregate(parts: Sequence[Sequence[float]], how: str = "mean") -> np.ndarray:
    """The step-by-step mean or median of several forecasts of the same length."""
    stacked = np.vstack([np.asarray(p, dtype=np.float64) for p in parts])
    if how == "median":
        return np.median(stacked, axis=0)
    if how == "mean":
        return np.mean(stacked, axis=0)
    raise ValueError(f"unknown aggregate {how!r} (mean or median)")


def combine(trials: Sequence[Trial], how: str = "mean") -> Trial:
    """Several candidates' forecasts combined step by step (`how`: mean or median), bounds too."""
    def of(parts: list[list[np.ndarray]]) -> list[np.ndarray]:
        return [aggregate(arrays, how) for arrays in zip(*parts, strict=True)]

    return Trial(of([t.means for t in trials]), of([t.lowers for t in trials]),
                 of([t.uppers for t in trials]))


def score(trial: Trial, values: np.ndarray, plan: Plan, period: int) -> dict[str, float]:
    """Mean MASE, sMAPE and coverage of a trial over the plan's cuts."""
    mase, smape, inside, total = [], [], 0.0, 0
    for cut, mean, lower, upper in zip(plan.cuts, trial.means, trial.lowers, trial.uppers,
                                       strict=True):
        actual = values[cut: cut + len(mean)]
        mase.append(metrics.mase(actual, mean, values[:cut], period))
        smape.append(metrics.smape(actual, mean))
        inside += metrics.coverage(actual, lower, upper) * len(actual)
        total += len(actual)
    return {
        "mase": _rounded(float(np.mean(mase))),
        "smape": _rounded(float(np.mean(smape))),
        "coverage": _rounded(inside / total),
    }


def _rounded(value: float) -> float | None:
    return round(value, 4) if np.isfinite(value) else None
