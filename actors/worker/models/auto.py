"""Forecast combination by default; optionally a choice per series by rolling-origin backtest.

By default (`candidates` = "combination") the forecast is the step-by-step median
(`combine_with`) of the `combine` models' forecasts: ETS, Theta (dynamic optimised), CES and
seasonal naive, i.e. the mean of the middle two. On M3 a fixed combination beat every
per-series pick by backtest we tried, at a fraction of the cost (docs/models.md). The
combination is still backtested, with its members, for the accuracy report.

train: regularise, find the seasonal period, backtest every candidate (see backtest.py) on the
last `backtest_points` points and score it by its mean MASE (scaled by the seasonal-naive
in-sample error); the candidate `combination` is scored from its members' backtest forecasts.
With several candidates the lowest score wins, except that the combination is kept unless a
single model beats it clearly (its MASE times 1 + `combination_margin` still below the
combination's): on short histories a backtest is a noisy judge. The winner (or each member of
the combination) is then trained on the whole history. A history too short to backtest gets
the combination. fit: fits each member, keeping the choice. forecast: the member's forecast, or the
members' mean or median (bounds combined the same way).

State (JSON): model, version, params, step, last_ts, choice, members (the chosen models'
states), selection {period, horizon, origins, level, scores {candidate: {mase, smape, coverage}
or {error}}, choice, reason}.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from actors.worker import backtest
from actors.worker.models.base import Forecast, InvalidState, Model, check_forecast_args
from actors.worker.series_prep import RegularSeries, TooFewPoints, choose_period
from protocol.models import COMBINATION, PARAMETERS, Param

log = logging.getLogger(__name__)

MIN_POINTS = 8
BASELINE = "seasonal_naive"
STATE_KEYS = ("choice", "members", "selection")
# Parameters every model shares, passed on to the candidates.
PASSED_ON = ("max_seasonal_period", "fourier_terms", "max_gap_steps", "time_precision")


def split_names(value: str) -> list[str]:
    """Model names from a comma-separated list."""
    return [v.strip() for v in value.split(",") if v.strip()]


class AutoModel(Model):
    """Picks the best candidate per series by backtest MASE, and records why."""

    name: ClassVar[str] = "auto"
    min_points: ClassVar[int] = MIN_POINTS
    # A constant history (a flag, a disk that never changes) gets the naive forecast, flat
    # with a zero-width band, instead of a failed train; see _constant().
    constant_ok: ClassVar[bool] = True
    parameters: ClassVar[dict[str, Param]] = PARAMETERS["auto"]

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Backtest the candidates, choose, train the choice on the whole history."""
        params, series = self.training_series(timestamps, values, params)
        inner = {key: params[key] for key in PASSED_ON}
        inner["seasonal_period"] = params["seasonal_period"]
        if float(np.ptp(series.values)) == 0.0:
            return self._constant(params, series, inner)
        period = choose_period(series.values, params["seasonal_period"],
                               params["max_seasonal_period"])
        period = period if period >= 2 else 1
        selection = self._select(series.timestamps, series.values, params, inner, period)
        members = self._members(selection["choice"], params)
        states, failed = [], {}
        for name in members:
            model = _model(name)
            try:
                states.append(model.train(series.timestamps, series.values,
                                          {**inner, "max_train_points": _cap(model, params)}))
            except Exception as exc:  # noqa: BLE001 - a failed member must not fail the choice
                failed[name] = f"{type(exc).__name__}: {exc}"
        if not states:  # every member failed on the whole history: the benchmark always works
            states = [_model("seasonal_naive").train(series.timestamps, series.values, inner)]
            selection["reason"] += "; chosen models failed, seasonal_naive used"
        if failed:
            selection["failed"] = failed
        return {
            **self.state_header(params, series),
            "choice": selection["choice"],
            "members": states,
            "selection": selection,
        }

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Fit each chosen model on the history; the choice stays.

        Two exceptions. A choice made on a constant history is provisional: once the history
        varies, the choice is made again (a train), since a flat start says nothing of what
        model suits the series. And a member whose fit fails on the new history (an ETS form
        chosen multiplicative meets a zero, a window gone constant) is trained again on it,
        or replaced by the seasonal naive model: one member must not fail the whole fit and
        leave the series with no forecast until the next train, thousands of points later.
        """
        self.check_state(state, STATE_KEYS)
        if state["selection"].get("constant") and _varies(values, state["params"]):
            return self.train(timestamps, values, state["params"])
        members, refit = [], {}
        for member in state["members"]:
            model = _model(member.get("model"))
            try:
                members.append(model.fit(member, timestamps, values))
            except (TooFewPoints, InvalidState):
                raise  # no other model does better with too few points or a bad state
            except Exception as exc:  # noqa: BLE001 - see above: one member must not fail all
                refit[model.name] = f"{type(exc).__name__}: {exc}"[:200]
                members.append(_refit(model, member, timestamps, values))
        last = members[0]
        out = dict(state, members=members, step=last["step"], last_ts=last["last_ts"],
                   n_obs=last.get("n_obs"))
        if refit:
            out["selection"] = {**state["selection"], "refit": refit}
        return out

    def _constant(self, params: dict, series: RegularSeries, inner: dict) -> dict:
        """The state of a constant history: the naive forecast (flat, a zero-width band)."""
        member = _model(BASELINE).train(series.timestamps, series.values,
                                        {**inner, "seasonal_period": 0})
        value = float(series.values[-1])
        selection = {"period": 1, "horizon": None, "origins": 0,
                     "level": params["backtest_level"], "scores": {}, "choice": BASELINE,
                     "constant": True,
                     "reason": f"constant history ({len(series)} points equal {value!r}): "
                               f"naive forecast until it varies"}
        return {**self.state_header(params, series), "choice": BASELINE, "members": [member],
                "selection": selection}

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """The chosen model's forecast, or the combination's (members' mean or median)."""
        check_forecast_args(horizon, level)
        self.check_state(state, STATE_KEYS)
        if not state["members"]:
            raise InvalidState("auto state has no member model")
        parts = [_model(m.get("model")).forecast(m, horizon, level) for m in state["members"]]
        if len(parts) == 1:
            return parts[0]
        how = state["params"].get("combine_with", "mean")  # states before it: the mean
        mean, lower, upper = (backtest.aggregate([getattr(p, key) for p in parts], how)
                              for key in ("mean", "lower", "upper"))
        return Forecast(parts[0].timestamps, mean.tolist(), lower.tolist(), upper.tolist(),
                        float(level))

    def _select(
        self, timestamps: np.ndarray, values: np.ndarray, params: dict, inner: dict, period: int
    ) -> dict:
        keep = params["backtest_points"]
        timestamps, values = timestamps[-keep:], values[-keep:]
        horizon = params["backtest_horizon"] or max(6, period)
        plan = backtest.plan_backtest(len(values), horizon, params["backtest_origins"], period)
        candidates = split_names(params["candidates"])
        selection: dict[str, Any] = {
            "period": period, "horizon": plan.horizon if plan else None,
            "origins": len(plan.cuts) if plan else 0, "level": params["backtest_level"],
            "scores": {},
        }
        if plan is None:
            selection["choice"] = COMBINATION if COMBINATION in candidates else candidates[0]
            selection["reason"] = f"{len(values)} points: too short to backtest"
            return selection
        needed = list(dict.fromkeys(
            [c for c in candidates if c != COMBINATION]
            + (split_names(params["combine"]) if COMBINATION in candidates else [])
            + [BASELINE]  # always scored: the accuracy report compares with it
        ))
        trials: dict[str, backtest.Trial] = {}
        for name in needed:
            try:
                trials[name] = backtest.run_trial(_model(name), timestamps, values, inner, plan,
                                                  params["backtest_level"])
            except Exception as exc:  # noqa: BLE001 - a failing candidate is only scored out
                selection["scores"][name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
        members = [m for m in split_names(params["combine"]) if m in trials]
        if COMBINATION in candidates and members:
            trials[COMBINATION] = backtest.combine([trials[m] for m in members],
                                                   params["combine_with"])
            selection["combined"] = members
        scored = {}
        for name in candidates:
            if name in trials:
                scored[name] = backtest.score(trials[name], values, plan, period)
                selection["scores"][name] = scored[name]
        for name in needed:  # members scored too, when not candidates themselves
            if name in trials and name not in scored:
                selection["scores"][name] = backtest.score(trials[name], values, plan, period)
        selection["choice"], selection["reason"] = _choose(scored, params["combination_margin"])
        return selection

    @staticmethod
    def _members(choice: str, params: dict) -> list[str]:
        return split_names(params["combine"]) if choice == COMBINATION else [choice]


def _choose(scored: Mapping[str, Mapping[str, Any]], margin: float) -> tuple[str, str]:
    """The candidate with the lowest MASE (the combination unless beaten by `margin`); a
    single candidate that ran its backtest is kept whatever its score."""
    if len(scored) == 1:
        (only, scores), = scored.items()
        return only, f"the only candidate (backtest MASE {scores['mase']})"
    finite = {k: v["mase"] for k, v in scored.items() if v["mase"] is not None}
    if not finite:
        return "seasonal_naive", "no candidate could be scored"
    best = min(finite, key=lambda k: finite[k])
    if COMBINATION in finite and best != COMBINATION and \
            finite[COMBINATION] <= finite[best] * (1 + margin):
        return COMBINATION, (f"combination MASE {finite[COMBINATION]} within {margin:.0%} of "
                             f"the best single model ({best} {finite[best]})")
    return best, f"lowest backtest MASE ({finite[best]})"


def _varies(values: Sequence[float], params: Mapping[str, Any]) -> bool:
    """Whether the recent history (what a train would read) holds two different values."""
    recent = np.asarray(values, dtype=np.float64)[-int(params["max_train_points"]):]
    recent = recent[np.isfinite(recent)]
    return len(recent) > 0 and float(np.ptp(recent)) > 0.0


def _refit(model: Model, member: dict, timestamps: Sequence[int],
           values: Sequence[float]) -> dict:
    """A member whose fit failed: trained again with its parameters, else the naive model."""
    try:
        return model.train(timestamps, values, member["params"])
    except Exception as exc:  # noqa: BLE001 - the naive model is the fallback of any failure
        log.info("auto: %s could not be trained again (%s); seasonal naive instead",
                 model.name, exc)
        params = {k: v for k, v in member["params"].items()
                  if k in _model(BASELINE).parameters and k != "max_train_points"}
        return _model(BASELINE).train(timestamps, values, params)


def _model(name: Any) -> Model:
    from actors.worker.models.registry import get_model

    return get_model(name)


def _cap(model: Model, params: Mapping[str, Any]) -> int:
    """Auto's max_train_points, within what the member model accepts."""
    spec = model.parameters["max_train_points"]
    return params["max_train_points"] if spec.problem(
        params["max_train_points"]) is None else spec.default
