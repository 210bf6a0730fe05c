"""ARIMA with Fourier seasonality: regression on trend and harmonics with ARMA errors.

train: regularise the history, find the seasonal period (or take `seasonal_period`), choose the
number of harmonics (BIC), the differencing d (KPSS), then estimate the deterministic part by least
squares on the d-th difference and pick the ARMA order of the errors by AICc (see arima_core).
fit: same period, harmonics, d and (p, q); re-estimate the deterministic part and the ARMA
parameters (MLE warm-started from the previous ones) on the new history.
forecast: uses only the state. After each train or fit the ARIMA errors are run through the
Kalman filter once, and the state keeps the filter's predicted state (mean vector and covariance,
a handful of numbers) for the step after last_ts. The forecast rebuilds the same statsmodels model
on `horizon` missing observations, initialised with that known state, and takes statsmodels'
predictions and intervals for them (what get_forecast gives after the full history, exactly),
plus the deterministic part. The state is small and its size does not grow with the history.

State (JSON): model, version, params, step, origin (timestamp of step index 0: t = (ts -
origin) / step), last_ts, order [p, d, q], trend ("c", "t" or "n") with trend_params, period and
fourier_order with fourier_params, ar, ma, sigma2, filter_state {mean, cov}, n_obs, criterion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from actors.worker.models.base import Forecast, InvalidState, Model, check_forecast_args
from actors.worker.series_prep import (
    RegularSeries,
    choose_period,
    fourier_terms,
    future_timestamps,
)
from protocol.models import PARAMETERS, Param

if TYPE_CHECKING:
    from actors.worker.models.arima_core import ArmaFit, Deterministic

MIN_POINTS = 20
FIT_MAXITER = 5
STATE_KEYS = (
    "origin", "order", "trend", "trend_params", "period", "fourier_order", "fourier_params",
    "ar", "ma", "sigma2", "filter_state",
)


def _core() -> ModuleType:
    """The statsmodels side, imported on first use: the hub validates parameters without it."""
    from actors.worker.models import arima_core

    return arima_core


class ArimaModel(Model):
    """ARIMA(p, d, q) errors around a constant or drift plus Fourier seasonal terms."""

    name: ClassVar[str] = "arima"
    min_points: ClassVar[int] = MIN_POINTS
    parameters: ClassVar[dict[str, Param]] = PARAMETERS["arima"]

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Choose period, harmonics, d and (p, q), estimate them; return the state."""
        core = _core()
        params, series = self.training_series(timestamps, values, params)
        y = series.values
        t = np.arange(len(y), dtype=np.float64)
        period = choose_period(y, params["seasonal_period"], params["max_seasonal_period"])
        fourier_order = 0
        if period >= 2:
            fourier_order = params["fourier_terms"] or core.choose_fourier_order(y, t, period)
            fourier_order = max(1, min(fourier_order, period // 2, (len(y) - 4) // 4))
        elif period == 1:
            period = 0
        fixed = params["order"]
        if fixed is not None:
            d = fixed[1]
        else:
            fourier = fourier_terms(t, period, fourier_order)
            d = core.choose_differencing(y, fourier, params["max_d"])
        deterministic = core.fit_deterministic(y, t, period, fourier_order, d)
        resid = y - deterministic(t)
        z = np.diff(resid, d)
        if fixed is not None:
            arma, score = core.fixed_arma(z, fixed[0], fixed[2], params["criterion"])
        else:
            arma, score = core.select_arma(
                z, params["max_p"], params["max_q"], params["criterion"]
            )
        arma, kalman = core.finish(resid, d, arma)
        return self._state(params, series, series.start, d, deterministic, arma, kalman, score)

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Same structure, parameters re-estimated on the (longer) history."""
        core = _core()
        params, series = self.fitting_series(state, STATE_KEYS, timestamps, values, "origin")
        p, d, q = state["order"]
        y = series.values
        t = (series.start - state["origin"]) // state["step"] + np.arange(len(y), dtype=np.float64)
        deterministic = core.fit_deterministic(
            y, t, state["period"], state["fourier_order"], d
        )
        resid = y - deterministic(t)
        z = np.diff(resid, d)
        previous = core.ArmaFit(p, q, state["ar"], state["ma"], state["sigma2"], -np.inf)
        arma = core.refit_arma(z, previous, params["fit_iterations"])
        score = core.criterion(arma.llf, p + q + 1, len(z), params["criterion"])
        arma, kalman = core.finish(resid, d, arma)
        return self._state(params, series, state["origin"], d, deterministic, arma, kalman, score)

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """Forecast from the state's stored filter state (see the module docstring)."""
        check_forecast_args(horizon, level)
        self.check_state(state, STATE_KEYS)
        core = _core()
        p, d, q = state["order"]
        step, last_ts = state["step"], state["last_ts"]
        deterministic = core.Deterministic(
            period=state["period"],
            fourier_order=state["fourier_order"],
            trend=state["trend"],
            trend_params=state["trend_params"],
            fourier_params=state["fourier_params"],
        )
        arma = core.ArmaFit(p, q, state["ar"], state["ma"], state["sigma2"], np.nan)
        try:
            mean, lower, upper = core.predict_from_state(
                arma, d, state["filter_state"], horizon, level
            )
        except ValueError as exc:
            raise InvalidState(f"arima state unusable: {exc}") from None
        t_last = (last_ts - state["origin"]) // step
        shift = deterministic(t_last + np.arange(1, horizon + 1, dtype=np.float64))
        return Forecast(
            timestamps=future_timestamps(last_ts, step, horizon),
            mean=(mean + shift).tolist(),
            lower=(lower + shift).tolist(),
            upper=(upper + shift).tolist(),
            level=float(level),
        )

    def _state(
        self,
        params: dict,
        series: RegularSeries,
        origin: int,
        d: int,
        deterministic: Deterministic,
        arma: ArmaFit,
        kalman: dict,
        score: float,
    ) -> dict:
        return {
            "model": self.name,
            "version": self.state_version,
            "params": dict(params),
            "step": series.step,
            "origin": int(origin),
            "last_ts": series.last_ts,
            "order": [arma.p, d, arma.q],
            "trend": deterministic.trend,
            "trend_params": deterministic.trend_params,
            "period": deterministic.period,
            "fourier_order": deterministic.fourier_order,
            "fourier_params": deterministic.fourier_params,
            "ar": [float(v) for v in arma.ar],
            "ma": [float(v) for v in arma.ma],
            "sigma2": float(arma.sigma2),
            "filter_state": kalman,
            "n_obs": len(series),
            "criterion": {"name": params["criterion"], "value": _finite_or_none(score)},
        }


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
