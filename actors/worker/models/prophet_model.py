"""Prophet: piecewise-linear trend plus seasonalities, fitted by Stan (MAP).

train: regularise the history, convert the integer timestamps to datetimes (`time_precision`), fix
the seasonalities once (see `choose_seasonalities`) and fit. fit: rebuild Prophet with the same
seasonalities and settings, and fit on the new history starting from the previous parameters (the
`init=` warm start Prophet documents, moved to the new history's scales) with a bounded number of
optimiser iterations. forecast: restore the model from the state and predict with
at most `uncertainty_samples` draws, with a fixed random seed so the same state always gives the
same interval.

State (JSON): model, version, params, step, last_ts, n_obs, seasonalities ([{name, period (days),
fourier_order}]) and prophet: the dict form of prophet.serialize.model_to_json. Before serialising,
the history is cut to its last two rows and the in-sample trend dropped: predict on given dates
needs neither, and the state stays a few kilobytes whatever the series length.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from actors.worker.models.base import Forecast, Model, check_forecast_args
from actors.worker.series_prep import (
    RegularSeries,
    detect_period,
    future_timestamps,
)
from protocol.models import PARAMETERS, Param

if TYPE_CHECKING:
    import pandas as pd
    from prophet import Prophet

MIN_POINTS = 10
DEFAULT_SEASON_ORDER = 5
FORECAST_SEED = 20240229
UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
# Prophet's own rules for its daily, weekly and yearly seasonality: enough span, fine enough step.
CALENDAR = (("daily", 1.0, 4), ("weekly", 7.0, 3), ("yearly", 365.25, 10))
SAME_PERIOD = 0.05  # a detected period this close to a calendar one is that one
STATE_KEYS = ("seasonalities", "prophet")


def _prophet() -> type[Prophet]:
    """Import Prophet on first use, quietly: importing it is slow and it logs a lot."""
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "Importing plotly failed"
    from cmdstanpy.utils import get_logger
    from prophet import Prophet

    # cmdstanpy's get_logger() sets the level on first use: call it, then quieten it.
    get_logger().setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    return Prophet


@contextmanager
def _quiet() -> Iterator[None]:
    """Hide the deprecation warnings Prophet's own code raises under newer pandas."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"prophet\.")
        yield


def choose_seasonalities(series: RegularSeries, params: Mapping[str, Any]) -> list[dict]:
    """Seasonalities to model: explicit period, none (0), or calendar ones plus a detected one."""
    step_days = series.step / UNITS_PER_DAY[params["time_precision"]]
    requested = params["seasonal_period"]
    chosen: list[dict] = []
    if requested is None:
        span_days = (len(series) - 1) * step_days
        for name, period, order in CALENDAR:
            if span_days >= 2 * period and step_days < period:
                chosen.append({"name": name, "period": period, "fourier_order": order})
        detected = detect_period(series.values, params["max_seasonal_period"])
        days = detected * step_days
        if detected >= 2 and all(abs(days / s["period"] - 1) > SAME_PERIOD for s in chosen):
            chosen.append(_custom("detected", detected, days, params))
    elif requested >= 2:
        chosen.append(_custom("seasonal", requested, requested * step_days, params))
    return chosen


def _custom(name: str, steps: int, days: float, params: Mapping[str, Any]) -> dict:
    order = params["fourier_terms"] or DEFAULT_SEASON_ORDER
    return {"name": name, "period": days, "fourier_order": max(1, min(order, steps // 2))}


class ProphetModel(Model):
    """Facebook Prophet with a fixed set of seasonalities and bounded uncertainty sampling."""

    name: ClassVar[str] = "prophet"
    min_points: ClassVar[int] = MIN_POINTS
    parameters: ClassVar[dict[str, Param]] = PARAMETERS["prophet"]

    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Fix the seasonalities, fit from Prophet's default start; return the state."""
        params, series = self.training_series(timestamps, values, params)
        seasonalities = choose_seasonalities(series, params)
        model = self._build(params, seasonalities)
        with _quiet():
            model.fit(self._frame(series, params))
        return self._state(params, series, seasonalities, model)

    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Same seasonalities and settings, parameters warm-started from the state's."""
        params, series = self.fitting_series(state, STATE_KEYS, timestamps, values)
        model = self._build(params, state["seasonalities"])
        frame = self._frame(series, params)
        # The posterior is flat near its mode (Laplace prior on changepoints): from a warm start
        # a bounded number of iterations gets all but a sliver of the log-probability.
        init = _stan_init(state["prophet"], frame, params)
        with _quiet():
            model.fit(frame, init=init, iter=params["fit_iterations"])
        return self._state(params, series, state["seasonalities"], model)

    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """Predict `horizon` steps with a seeded, bounded number of uncertainty draws."""
        check_forecast_args(horizon, level)
        self.check_state(state, STATE_KEYS)
        _prophet()
        from prophet.serialize import model_from_json

        with _quiet():
            model = model_from_json(json.dumps(state["prophet"]))
        model.interval_width = float(level)
        future_ts = future_timestamps(state["last_ts"], state["step"], horizon)
        precision = self.validate_parameters(state["params"])["time_precision"]
        frame = _to_frame(future_ts, precision)
        saved = np.random.get_state()
        np.random.seed(FORECAST_SEED)  # Prophet samples its intervals from the global RNG
        try:
            with _quiet():
                predicted = model.predict(frame)
        finally:
            np.random.set_state(saved)
        mean = predicted["yhat"].to_numpy(dtype=float)
        lower = np.minimum(predicted["yhat_lower"].to_numpy(dtype=float), mean)
        upper = np.maximum(predicted["yhat_upper"].to_numpy(dtype=float), mean)
        return Forecast(future_ts, mean.tolist(), lower.tolist(), upper.tolist(), float(level))

    @staticmethod
    def _build(params: Mapping[str, Any], seasonalities: Sequence[Mapping[str, Any]]) -> Prophet:
        model = _prophet()(
            growth=params["growth"],
            n_changepoints=params["n_changepoints"],
            changepoint_range=params["changepoint_range"],
            changepoint_prior_scale=params["changepoint_prior_scale"],
            seasonality_prior_scale=params["seasonality_prior_scale"],
            seasonality_mode=params["seasonality_mode"],
            uncertainty_samples=params["uncertainty_samples"],
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
        )
        for season in seasonalities:
            model.add_seasonality(
                name=season["name"], period=season["period"], fourier_order=season["fourier_order"]
            )
        return model

    @staticmethod
    def _frame(series: RegularSeries, params: Mapping[str, Any]) -> pd.DataFrame:
        frame = _to_frame(series.timestamps, params["time_precision"])
        frame["y"] = series.values
        return frame

    def _state(
        self,
        params: Mapping[str, Any],
        series: RegularSeries,
        seasonalities: Sequence[Mapping[str, Any]],
        model: Prophet,
    ) -> dict:
        from prophet.serialize import model_to_json

        model.history = model.history.tail(2).reset_index(drop=True)
        model.history_dates = model.history_dates.tail(2).reset_index(drop=True)
        model.params.pop("trend", None)
        model.fit_kwargs = {}
        return {
            **self.state_header(params, series),
            "seasonalities": [dict(s) for s in seasonalities],
            "prophet": json.loads(model_to_json(model)),
        }


def _to_frame(timestamps: Sequence[int] | np.ndarray, precision: str) -> pd.DataFrame:
    import pandas as pd

    ds = pd.to_datetime(np.asarray(timestamps, dtype=np.int64), unit=precision)
    return pd.DataFrame({"ds": ds})


def _stan_init(old: Mapping[str, Any], frame: pd.DataFrame, params: Mapping[str, Any]) -> dict:
    """Prophet's warm-start dict: the previous MAP parameters moved to the new history's scales.

    Prophet scales y by max |y| and time by the history's span from its start; both change as
    the history grows, so the old k, m, delta, beta and sigma are re-expressed in the new units
    (the trend's value and slope at the new start; later slope changes kept in order).
    """
    p = {key: np.asarray(old["params"][key], dtype=float).reshape(-1) for key in
         ("k", "m", "delta", "beta", "sigma_obs")}
    y_scale = float(np.abs(frame["y"]).max()) or 1.0
    start = frame["ds"].min().timestamp()
    t_scale = frame["ds"].max().timestamp() - start
    a = float(old["y_scale"]) / y_scale
    r = t_scale / float(old["t_scale"])
    c = (start - float(old["start"])) / float(old["t_scale"])
    changes = np.asarray(old["changepoints_t"], dtype=float)[: len(p["delta"])]
    before = changes < c
    slope = p["k"][0] + p["delta"][: len(changes)][before].sum()
    offset = p["m"][0] - (changes[before] * p["delta"][: len(changes)][before]).sum()
    hist_size = int(np.floor(len(frame) * params["changepoint_range"]))
    n_changes = max(1, min(params["n_changepoints"], hist_size - 1))
    later = a * r * p["delta"][: len(changes)][~before][:n_changes]
    additive = params["seasonality_mode"] == "additive"
    return {
        "k": float(a * r * slope),
        "m": float(a * (slope * c + offset)),
        "sigma_obs": float(a * p["sigma_obs"][0]),
        "delta": np.r_[later, np.zeros(n_changes - len(later))],
        "beta": p["beta"] * (a if additive else 1.0),
    }
