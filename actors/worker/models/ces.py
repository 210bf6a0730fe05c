"""Complex exponential smoothing (CES, Svetunkov & Kourentzes): statsforecast's AutoCES.

train: regularise, plan the seasonality (see seasonal.py: a short period as CES seasonal
states, long or several periods as Fourier terms removed first), then let AutoCES choose the
season type (N none, S simple, P partial, F full) by AICc, or take the `season` given.
fit: the same season type and seasonality, smoothing parameters re-estimated on the new history.
forecast: from the state alone: CES's forecast is a linear recursion on the last `m` state
rows. The interval is statsforecast's (the states perturbed by N(0, sigma2) noise), computed
exactly instead of by its 5,000 simulated paths: the forecast being linear in the states, its
variance at each step is sigma2 times the sum of squared responses to each state entry.

State (JSON): model, version, params, step, last_ts, n_obs, season_type, m, par {alpha_0,
alpha_1, beta_0, beta_1} (null when unused), sigma2, last_states (m rows), aicc, seasons (see
seasonal.Seasons), t_last.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.stats import norm

from actors.worker.models.base import Forecast, InvalidState, Model, check_forecast_args
from actors.worker.models.seasonal import Seasons, plan_seasons
from actors.worker.series_prep import RegularSeries, future_timestamps, require_variation
from protocol.models import PARAMETERS, Param

MIN_POINTS = 8
SEASON_TYPES = ("N", "S", "P", "F")
PAR_KEYS = ("alpha_0", "alpha_1", "beta_0", "beta_1")
STATE_KEYS = ("season_type", "m", "par", "sigma2", "last_states", "seasons", "t_last")


def _finite_or_none(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def ces_path(states: np.ndarray, m: int, season_type: str, par: Mapping[str, Any],
             horizon: int) -> np.ndarray:
    """CES point forecasts from the last m state rows."""
    from statsforecast.ces import cesforecast

    out = np.zeros(horizon, dtype=np.float64)
    cesforecast(states=np.ascontiguousarray(states, dtype=np.float64), n=0, m=m,
                season=SEASON_TYPES.index(season_type), f=out, h=horizon,
                **{k: np.nan if par[k] is None else float(par[k]) for k in PAR_KEYS})
    return out


class CesModel(Model):
    """CES with AICc choice of the season type; intervals from the state noise."""

    name: ClassVar[str] = "ces"
    min_points: ClassVar[int] = MIN_POINTS
    parameters: ClassVar[dict[str, Param]] = PARAMETERS["ces"]

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Plan the seasonality, choose the season type by AICc and fit it; return the state."""
        params, series = self.training_series(timestamps, values, params)
        seasons = plan_seasons(series.values, params)
        season = "Z" if params["season"] == "auto" else params["season"]
        return self._fit(params, series, seasons, season)

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Same season type and seasonality; smoothing parameters re-estimated."""
        params, series = self.fitting_series(state, STATE_KEYS, timestamps, values)
        require_variation(series.values)
        seasons = Seasons.from_json(state["seasons"]).fitted(series.values)
        if state["season_type"] not in SEASON_TYPES:
            raise InvalidState(f"ces state has an unknown season type {state['season_type']!r}")
        return self._fit(params, series, seasons, state["season_type"])

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """The CES recursion from the last states, Fourier seasonality put back."""
        check_forecast_args(horizon, level)
        self.check_state(state, STATE_KEYS)
        horizon, m, kind = int(horizon), int(state["m"]), state["season_type"]
        if kind not in SEASON_TYPES:
            raise InvalidState(f"ces state has an unknown season type {kind!r}")
        states = np.asarray(state["last_states"], dtype=np.float64)
        mean = ces_path(states, m, kind, state["par"], horizon)
        # Linear in the states: the response to each state entry gives the variance.
        responses = np.zeros(horizon)
        for index in np.ndindex(states.shape):
            unit = np.zeros_like(states)
            unit[index] = 1.0
            responses += ces_path(unit, m, kind, state["par"], horizon) ** 2
        half = norm.ppf(0.5 + level / 2) * math.sqrt(max(state["sigma2"], 0.0)) * np.sqrt(
            responses)
        seasonal = Seasons.from_json(state["seasons"]).at(
            state["t_last"] + np.arange(1, horizon + 1))
        mean = mean + seasonal
        return Forecast(future_timestamps(state["last_ts"], state["step"], horizon),
                        mean.tolist(), (mean - half).tolist(), (mean + half).tolist(),
                        float(level))

    def _fit(self, params: dict, series: RegularSeries, seasons: Seasons, season: str) -> dict:
        from statsforecast.ces import auto_ces

        y = series.values
        adjusted = y - seasons.at(np.arange(len(y), dtype=np.float64))
        if seasons.native < 2:
            season = "N"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = auto_ces(adjusted, max(seasons.native, 1), model=season)
        m, n = int(fitted["m"]), int(fitted["n"])
        last = np.asarray(fitted["states"], dtype=np.float64)[n:n + m]
        if not np.all(np.isfinite(last)):
            raise ValueError("CES fit diverged (non-finite states)")
        return {
            **self.state_header(params, series),
            "season_type": str(fitted["seasontype"]),
            "m": m,
            "par": {k: _finite_or_none(fitted["par"][k]) for k in PAR_KEYS},
            "sigma2": float(fitted["sigma2"]),
            "last_states": [[float(v) for v in row] for row in last],
            "aicc": _finite_or_none(fitted["aicc"]),
            "seasons": seasons.to_json(),
            "t_last": len(y) - 1,
        }
