"""Exponential smoothing (ETS, Holt-Winters): statsforecast's AutoETS behind the contract.

train: regularise, plan the seasonality (a short period as ETS seasonal states, long or several
periods as Fourier terms removed first, see seasonal.py), then let AutoETS choose error, trend,
damping and season (additive, multiplicative or none) by AICc, or take the `spec` given.
fit: the same components and seasonality, parameters re-estimated on the new history.
forecast: from the state alone: the last state vector (level, trend, seasonal states) and the
smoothing parameters are all that ETS's forecast and its analytic intervals need.

State (JSON): model, version, params, step, last_ts, n_obs, components (e.g. "MAdN" as
statsforecast's four letters "MAND"/"MADN"...), par [alpha, beta, gamma, phi] (null when unused),
m, sigma2, last_state, aicc, seasons (see seasonal.Seasons), t_last.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from actors.worker.models.base import Forecast, Model, check_forecast_args
from actors.worker.models.seasonal import Seasons, plan_seasons
from actors.worker.series_prep import (
    RegularSeries,
    future_timestamps,
    require_variation,
)
from protocol.models import PARAMETERS, Param

MIN_POINTS = 8
STATE_KEYS = ("components", "par", "m", "sigma2", "last_state", "seasons", "t_last")


def _nan_to_none(values: Sequence[float]) -> list[float | None]:
    return [None if v is None or not math.isfinite(v) else float(v) for v in values]


class EtsModel(Model):
    """ETS(error, trend, season) with AICc selection, analytic prediction intervals."""

    name: ClassVar[str] = "ets"
    min_points: ClassVar[int] = MIN_POINTS
    parameters: ClassVar[dict[str, Param]] = PARAMETERS["ets"]

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Plan the seasonality, choose the ETS form by AICc and fit it; return the state."""
        params, series = self.training_series(timestamps, values, params)
        seasons = plan_seasons(series.values, params)
        damped = {"auto": None, "yes": True, "no": False}[params["damped"]]
        return self._fit(params, series, seasons, params["spec"], damped)

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Same components and seasonality; parameters re-estimated on the history."""
        params, series = self.fitting_series(state, STATE_KEYS, timestamps, values)
        require_variation(series.values)
        seasons = Seasons.from_json(state["seasons"]).fitted(series.values)
        components = state["components"]
        return self._fit(params, series, seasons, components[:3], components[3] == "D")

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """Point forecasts and analytic (or simulated, for some multiplicative forms) intervals."""
        check_forecast_args(horizon, level)
        self.check_state(state, STATE_KEYS)
        from statsforecast.ets import forecast_ets

        horizon = int(horizon)
        par = np.array([np.nan if v is None else v for v in state["par"]], dtype=np.float64)
        fitted = {
            "components": state["components"],
            "par": par,
            "m": int(state["m"]),
            "sigma2": float(state["sigma2"]),
            "states": np.asarray([state["last_state"]], dtype=np.float64),
            "residuals": np.zeros(1),
            "fitted": np.zeros(1),
        }
        lv = round(float(level) * 100, 6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = forecast_ets(fitted, horizon, level=[lv])
        seasonal = Seasons.from_json(state["seasons"]).at(
            state["t_last"] + np.arange(1, horizon + 1)
        )
        mean = np.asarray(out["mean"]) + seasonal
        lower = np.minimum(np.asarray(out[f"lo-{lv}"]) + seasonal, mean)
        upper = np.maximum(np.asarray(out[f"hi-{lv}"]) + seasonal, mean)
        return Forecast(future_timestamps(state["last_ts"], state["step"], horizon),
                        mean.tolist(), lower.tolist(), upper.tolist(), float(level))

    def _fit(
        self, params: dict, series: RegularSeries, seasons: Seasons, spec: str,
        damped: bool | None,
    ) -> dict:
        from statsforecast.models import AutoETS

        y = series.values
        t = np.arange(len(y), dtype=np.float64)
        adjusted = y - seasons.at(t)
        if seasons.native < 2 and spec[2] != "Z":
            spec = spec[:2] + "N"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = AutoETS(season_length=seasons.native, model=spec, damped=damped).fit(adjusted)
        fitted = model.model_
        return {
            **self.state_header(params, series),
            "components": str(fitted["components"]),
            "par": _nan_to_none(np.asarray(fitted["par"], dtype=np.float64)[:4].tolist()),
            "m": int(fitted["m"]),
            "sigma2": float(fitted["sigma2"]),
            "last_state": [float(v) for v in np.asarray(fitted["states"])[-1]],
            "aicc": _nan_to_none([float(fitted.get("aicc", np.nan))])[0],
            "seasons": seasons.to_json(),
            "t_last": len(y) - 1,
        }
