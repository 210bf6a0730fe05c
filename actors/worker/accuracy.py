"""Per-series accuracy, measured when a model is trained: backtest of the model and the baseline.

The report compares the series' model with the seasonal-naive baseline on the same rolling
origins (see backtest.py) at the hub's horizon and interval level: MASE, sMAPE and interval
coverage for each. The `auto` model has just run that backtest to make its choice; its
scores are reused rather than computed again.

Report (JSON): {horizon, origins, level, period, model {name, mase, smape, coverage},
baseline {name, mase, smape, coverage}}, or {error} when the history is too short.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from actors.worker import backtest
from actors.worker.models.base import Model
from actors.worker.series_prep import choose_period, regular_series

log = logging.getLogger(__name__)

BASELINE = "seasonal_naive"
DEFAULT_ORIGINS = 3
#: Most recent points the backtest of a non-auto model trains on (bounds its cost).
BACKTEST_POINTS = 400


def _named(name: str, scores: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not scores or "mase" not in scores:
        return None
    return {"name": name, **{k: scores[k] for k in ("mase", "smape", "coverage")}}


def from_selection(state: Mapping[str, Any]) -> dict[str, Any]:
    """The accuracy report of an `auto` state, from the backtest that chose its model."""
    selection = state["selection"]
    if not selection.get("origins"):
        return {"error": selection.get("reason", "no backtest")}
    choice = selection["choice"]
    return {
        "horizon": selection["horizon"],
        "origins": selection["origins"],
        "level": selection["level"],
        "period": selection["period"],
        "model": _named(f"auto:{choice}", selection["scores"].get(choice)),
        "baseline": _named(BASELINE, selection["scores"].get(BASELINE)),
    }


def measure(
    model: Model, state: Mapping[str, Any], timestamps: Sequence[int], values: Sequence[float],
    params: Mapping[str, Any], horizon: int, level: float, origins: int = DEFAULT_ORIGINS,
) -> dict[str, Any]:
    """Backtest the model (with its parameters) and the baseline; the accuracy report."""
    from actors.worker.models.registry import get_model

    if state.get("model") == "auto" and "selection" in state:
        return from_selection(state)
    checked = model.validate_parameters(params)
    series = regular_series(timestamps, values, {**checked, "max_train_points": BACKTEST_POINTS},
                            min_points=2)
    period = choose_period(series.values, checked.get("seasonal_period"),
                           checked.get("max_seasonal_period", 500))
    period = period if period >= 2 else 1
    plan = backtest.plan_backtest(len(series), horizon, origins, period)
    if plan is None:
        return {"error": f"{len(series)} points: too short to backtest"}
    baseline_params = {k: checked[k] for k in ("seasonal_period", "max_gap_steps",
                                               "time_precision") if k in checked}
    report: dict[str, Any] = {"horizon": plan.horizon, "origins": len(plan.cuts),
                              "level": level, "period": period}
    for key, candidate, candidate_params in (
        ("model", model, checked), ("baseline", get_model(BASELINE), baseline_params)
    ):
        try:
            trial = backtest.run_trial(candidate, series.timestamps, series.values,
                                       candidate_params, plan, level)
            scores = backtest.score(trial, series.values, plan, period)
            report[key] = _named(candidate.name, scores)
        except (ValueError, np.linalg.LinAlgError) as exc:
            report[key] = {"name": candidate.name, "error": f"{type(exc).__name__}: {exc}"[:200]}
    return report


def backtest_params(
    model: Model, params: Mapping[str, Any], horizon: int, level: float
) -> dict[str, Any]:
    """Params with the hub's horizon and level for a model that backtests, unless set."""
    out = dict(params)
    if "backtest_horizon" in model.parameters and out.get("backtest_horizon") is None:
        out["backtest_horizon"] = int(horizon)
    if "backtest_level" in model.parameters and out.get("backtest_level") is None:
        out["backtest_level"] = float(level)
    return out


def safe_measure(
    model: Model, state: Mapping[str, Any], timestamps: Sequence[int], values: Sequence[float],
    params: Mapping[str, Any], horizon: int, level: float,
) -> dict[str, Any]:
    """measure(), with any failure reported in the result rather than failing the training."""
    try:
        return measure(model, state, timestamps, values, params, horizon, level)
    except Exception as exc:  # noqa: BLE001 - accuracy is a report; the model is trained anyway
        log.warning("accuracy of %s not measured: %r", model.name, exc)
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
