"""Theta: statsforecast's AutoTheta (standard, optimised and dynamic variants) behind the contract.

train: regularise, plan the seasonality (see seasonal.py: a short period goes to Theta's own
classical decomposition, used when the lag-m autocorrelation is significant; long or several
periods are removed as Fourier terms first), then fit the `variant`: by default the dynamic
optimised Theta model (DOTM, Fiorucci et al. 2016), or with `auto` the best of the standard
(STM), optimised (OTM) and dynamic (DSTM, DOTM) models by in-sample MSE (which forecast M3
worse than DOTM alone: docs/models.md). fit: same variant, seasonality,
alpha and theta; the initial level is re-estimated and the states run through the new history
(cheap: a one-dimensional optimisation). forecast: from the last state (level, mean, A, B)
by the model's own recursion (Fiorucci et al. 2016), with SES-style intervals
sigma * sqrt(1 + alpha^2 (h - 1)).

State (JSON): model, version, params, step, last_ts, n_obs, variant, alpha, theta, n, last_state
[level, mean_y, A, B], sigma, decomposition (null, "additive" or "multiplicative") with
season_index (one value per phase of the next season), seasons (Fourier, see seasonal.Seasons),
t_last.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.stats import norm

from actors.worker.models.base import Forecast, Model, check_forecast_args
from actors.worker.models.seasonal import Seasons, plan_seasons
from actors.worker.series_prep import (
    RegularSeries,
    future_timestamps,
    require_variation,
)
from protocol.models import PARAMETERS, Param

MIN_POINTS = 8
VARIANTS = ("STM", "OTM", "DSTM", "DOTM")
STATE_KEYS = ("variant", "alpha", "theta", "n", "last_state", "sigma", "decomposition",
              "season_index", "seasons", "t_last")


def theta_path(state: Mapping[str, Any], horizon: int) -> np.ndarray:
    """Point forecasts of the deseasonalised series from the last state."""
    level, mean_y, a, b = (float(v) for v in state["last_state"])
    alpha, theta, n = float(state["alpha"]), float(state["theta"]), int(state["n"])
    dynamic = state["variant"].startswith("D")
    out = np.empty(horizon)
    for k, i in enumerate(range(n, n + horizon)):
        y = level + (1 - 1 / theta) * (a * (1 - alpha) ** i + b * (1 - (1 - alpha) ** (i + 1))
                                       / alpha)
        out[k] = y
        level = alpha * y + (1 - alpha) * level
        previous_mean = mean_y
        mean_y = (i * mean_y + y) / (i + 1)
        if dynamic:
            b = ((i - 1) * b + 6 * (y - previous_mean) / (i + 1)) / (i + 2)
            a = mean_y - b * (i + 2) / 2
    return out


class ThetaModel(Model):
    """Theta method (AutoTheta's four variants) with seasonal adjustment."""

    name: ClassVar[str] = "theta"
    min_points: ClassVar[int] = MIN_POINTS
    parameters: ClassVar[dict[str, Param]] = PARAMETERS["theta"]

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Plan the seasonality, choose the Theta variant and fit it; return the state."""
        params, series = self.training_series(timestamps, values, params)
        seasons = plan_seasons(series.values, params)
        variant = None if params["variant"] == "auto" else params["variant"]
        return self._fit(params, series, seasons, variant)

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Same variant, seasonality, alpha and theta; states run through the history."""
        params, series = self.fitting_series(state, STATE_KEYS, timestamps, values)
        require_variation(series.values)
        seasons = Seasons.from_json(state["seasons"]).fitted(series.values)
        return self._fit(params, series, seasons, state["variant"], state["alpha"],
                         state["theta"])

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """Theta path, SES-style interval, seasonality put back."""
        check_forecast_args(horizon, level)
        self.check_state(state, STATE_KEYS)
        horizon = int(horizon)
        mean = theta_path(state, horizon)
        steps = np.arange(1, horizon + 1)
        half = norm.ppf(0.5 + level / 2) * state["sigma"] * np.sqrt(
            1 + state["alpha"] ** 2 * (steps - 1)
        )
        lower, upper = mean - half, mean + half
        if state["decomposition"]:
            index = np.asarray(state["season_index"])[(steps - 1) % len(state["season_index"])]
            if state["decomposition"] == "multiplicative":
                mean, lower, upper = mean * index, lower * index, upper * index
            else:
                mean, lower, upper = mean + index, lower + index, upper + index
        seasonal = Seasons.from_json(state["seasons"]).at(state["t_last"] + steps)
        mean, lower, upper = mean + seasonal, lower + seasonal, upper + seasonal
        return Forecast(future_timestamps(state["last_ts"], state["step"], horizon),
                        mean.tolist(), np.minimum(lower, mean).tolist(),
                        np.maximum(upper, mean).tolist(), float(level))

    def _fit(
        self, params: dict, series: RegularSeries, seasons: Seasons, variant: str | None,
        alpha: float | None = None, theta: float | None = None,
    ) -> dict:
        from statsforecast.theta import auto_theta

        y = series.values
        adjusted = y - seasons.at(np.arange(len(y), dtype=np.float64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = auto_theta(adjusted, seasons.native, model=variant, alpha=alpha,
                                theta=theta, decomposition_type=params["decomposition"])
        resid = np.asarray(fitted["residuals"], dtype=np.float64)
        if fitted.get("decompose", False):
            decomposition = fitted["decomposition_type"]
            index = np.asarray(fitted["seas_forecast"]["mean"], dtype=np.float64)
            # residuals come back reseasonalised; sigma belongs to the adjusted scale
            phase = index[(np.arange(len(resid)) - len(resid)) % len(index)]
            resid = resid / phase if decomposition == "multiplicative" else resid - phase
        else:
            decomposition, index = None, np.zeros(0)
        tail = resid[3:] if len(resid) > 5 else resid
        last = np.asarray(fitted["states"], dtype=np.float64)[-1]
        return {
            **self.state_header(params, series),
            "variant": str(fitted["modeltype"]),
            "alpha": float(fitted["par"]["alpha"]),
            "theta": float(fitted["par"]["theta"]),
            "n": int(fitted["n"]),
            "last_state": [float(v) for v in last[:4]],
            "sigma": float(np.std(tail, ddof=1)) if len(tail) > 1 else 0.0,
            "decomposition": decomposition,
            "season_index": [float(v) for v in index],
            "seasons": seasons.to_json(),
            "t_last": len(y) - 1,
        }
