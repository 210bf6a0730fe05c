"""Seasonal naive: each step repeats the value one season earlier (the last value without season).

train and fit: regularise, find the period (or take `seasonal_period`; 0 gives the plain naive
forecast), keep the last season and the standard deviation of the in-sample seasonal differences.
forecast: the last season repeated; the interval widens with the number of seasons ahead,
sigma * sqrt(floor((h - 1) / m) + 1), as for a seasonal random walk.

State (JSON): model, version, params, step, last_ts, n_obs, period, last_season, sigma.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.stats import norm

from actors.worker.models.base import Forecast, Model, check_forecast_args
from actors.worker.series_prep import (
    RegularSeries,
    choose_period,
    future_timestamps,
)
from protocol.models import PARAMETERS, Param

MIN_POINTS = 8
STATE_KEYS = ("period", "last_season", "sigma")


class SeasonalNaiveModel(Model):
    """The benchmark every other model must beat."""

    name: ClassVar[str] = "seasonal_naive"
    min_points: ClassVar[int] = MIN_POINTS
    # A constant history has a plain meaning here: a flat forecast with a zero-width band
    # (the views floor the band's half-width, so nothing divides by zero).
    constant_ok: ClassVar[bool] = True
    parameters: ClassVar[dict[str, Param]] = PARAMETERS["seasonal_naive"]

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Find the period; keep the last season and the seasonal-difference spread."""
        params, series = self.training_series(timestamps, values, params)
        if float(np.ptp(series.values)) == 0.0:
            return self._state(params, series, 0)  # no season to find in a flat line
        period = choose_period(series.values, params["seasonal_period"],
                               params["max_seasonal_period"])
        return self._state(params, series, period)

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Same period, on the new history."""
        params, series = self.fitting_series(state, STATE_KEYS, timestamps, values)
        return self._state(params, series, state["period"])

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """The last season repeated, with a seasonal random walk's interval."""
        check_forecast_args(horizon, level)
        self.check_state(state, STATE_KEYS)
        horizon = int(horizon)
        season = np.asarray(state["last_season"], dtype=np.float64)
        m = len(season)
        steps = np.arange(horizon)
        mean = season[steps % m]
        half = norm.ppf(0.5 + level / 2) * state["sigma"] * np.sqrt(steps // m + 1)
        return Forecast(future_timestamps(state["last_ts"], state["step"], horizon),
                        mean.tolist(), (mean - half).tolist(), (mean + half).tolist(),
                        float(level))

    def _state(self, params: dict, series: RegularSeries, period: int) -> dict:
        y = series.values
        m = period if 2 <= period < len(y) else 1
        diffs = y[m:] - y[:-m]
        return {
            **self.state_header(params, series),
            "period": int(period),
            "last_season": [float(v) for v in y[-m:]],
            "sigma": float(np.sqrt(np.mean(diffs**2))) if len(diffs) else 0.0,
        }
