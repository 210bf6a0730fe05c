"""ARIMA specifics: structure choices, fixed orders, the forecast window."""

from __future__ import annotations

import json

import numpy as np
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from actors.worker.models.arima import ArimaModel
from actors.worker.models.base import InvalidState
from tests.unit.test_models_common import HOUR_MS, START_MS, TRAIN, synthetic_series

MODEL = ArimaModel()


def hourly(values: np.ndarray) -> np.ndarray:
    return START_MS + np.arange(len(values)) * HOUR_MS


@pytest.fixture(scope="module")
def seasonal_state() -> dict:
    ts, values = synthetic_series()
    return MODEL.train(ts[:TRAIN], values[:TRAIN], {})


def test_detects_daily_period_and_drift(seasonal_state):
    assert seasonal_state["period"] == 24
    assert 1 <= seasonal_state["fourier_order"] <= 10
    p, d, q = seasonal_state["order"]
    assert 0 <= p <= 3 and 0 <= q <= 3
    if d == 1:
        assert seasonal_state["trend"] == "t"
        assert seasonal_state["trend_params"][0] == pytest.approx(0.05, abs=0.03)


def test_state_layout(seasonal_state):
    state = seasonal_state
    p, _, q = state["order"]
    assert len(state["ar"]) == p and len(state["ma"]) == q
    assert state["sigma2"] > 0
    k_states = len(state["filter_state"]["mean"])
    assert k_states >= 1 and len(state["filter_state"]["cov"]) == k_states
    assert state["origin"] == START_MS and state["step"] == HOUR_MS
    assert state["last_ts"] == START_MS + (TRAIN - 1) * HOUR_MS
    assert state["criterion"]["name"] == "aicc"


def test_white_noise_is_level_and_constant():
    rng = np.random.default_rng(1)
    values = 5.0 + rng.normal(0, 1, 400)
    state = MODEL.train(hourly(values), values, {})
    assert state["order"][1] == 0
    assert state["trend"] == "c"
    assert state["trend_params"][0] == pytest.approx(5.0, abs=0.3)
    forecast = MODEL.forecast(state, 10)
    assert np.allclose(forecast.mean, 5.0, atol=0.5)
    half_width = (np.asarray(forecast.upper) - np.asarray(forecast.lower)) / 2
    assert np.allclose(half_width, 1.96, rtol=0.2)


def test_random_walk_is_differenced():
    rng = np.random.default_rng(2)
    values = np.cumsum(rng.normal(0, 1, 500))
    state = MODEL.train(hourly(values), values, {"seasonal_period": 0})
    assert state["order"][1] >= 1
    forecast = MODEL.forecast(state, 20)
    widths = np.subtract(forecast.upper, forecast.lower)
    assert np.all(np.diff(widths) > 0)  # uncertainty grows with the horizon


def test_seasonal_period_zero_disables_fourier():
    ts, values = synthetic_series(300)
    state = MODEL.train(ts, values, {"seasonal_period": 0})
    assert state["period"] == 0 and state["fourier_order"] == 0 and state["fourier_params"] == []


def test_explicit_period_and_harmonics():
    ts, values = synthetic_series(300)
    state = MODEL.train(ts, values, {"seasonal_period": 12, "fourier_terms": 2})
    assert state["period"] == 12 and state["fourier_order"] == 2
    assert len(state["fourier_params"]) == 4


def test_fixed_order_is_used():
    ts, values = synthetic_series(300)
    state = MODEL.train(ts, values, {"order": [2, 1, 0]})
    assert state["order"] == [2, 1, 0]
    assert len(state["ar"]) == 2 and state["ma"] == []


def test_fit_keeps_order_even_when_data_changes(seasonal_state):
    rng = np.random.default_rng(5)
    values = 50 + rng.normal(0, 1, TRAIN + 200)  # no longer seasonal: structure must stay
    refit = MODEL.fit(seasonal_state, hourly(values), values)
    for key in ("order", "period", "fourier_order", "trend"):
        assert refit[key] == seasonal_state[key]
    assert refit["origin"] == seasonal_state["origin"]


def test_forecast_from_state_equals_statsmodels_on_full_history():
    rng = np.random.default_rng(11)
    e = rng.normal(0, 1, 601)
    values = 10 + np.cumsum(e[1:] - 0.9 * e[:-1])  # ARIMA(0,1,1) with a slow MA root
    state = MODEL.train(hourly(values), values, {"seasonal_period": 0, "order": [0, 1, 1]})
    drift = state["trend_params"][0]
    t = np.arange(len(values))
    model = SARIMAX(values - drift * t, order=(0, 1, 1), trend="n")
    expected = model.filter(np.r_[state["ma"], state["sigma2"]]).get_forecast(12)
    interval = np.asarray(expected.conf_int(alpha=0.05))
    shift = drift * (len(values) - 1 + np.arange(1, 13))
    forecast = MODEL.forecast(state, 12)
    assert np.allclose(forecast.mean, np.asarray(expected.predicted_mean) + shift, atol=1e-8)
    assert np.allclose(forecast.lower, interval[:, 0] + shift, atol=1e-8)
    assert np.allclose(forecast.upper, interval[:, 1] + shift, atol=1e-8)


def test_state_size_does_not_grow_with_history(seasonal_state):
    ts, values = synthetic_series(3000)
    bigger = MODEL.train(ts, values, {})
    assert len(json.dumps(bigger)) < len(json.dumps(seasonal_state)) + 500


def test_json_round_trip_keeps_types(seasonal_state):
    restored = json.loads(json.dumps(seasonal_state))
    assert restored == seasonal_state


def test_inconsistent_state_rejected(seasonal_state):
    broken = dict(seasonal_state, ar=[0.1] * 7)
    with pytest.raises(InvalidState):
        MODEL.forecast(broken, 5)
    missing = {k: v for k, v in seasonal_state.items() if k != "filter_state"}
    with pytest.raises(InvalidState, match="filter_state"):
        MODEL.forecast(missing, 5)
    wrong_size = dict(seasonal_state, filter_state={"mean": [0.0], "cov": [[1.0]]})
    with pytest.raises(InvalidState):
        MODEL.forecast(wrong_size, 5)


@pytest.mark.parametrize(
    "params, key",
    [
        ({"order": [1, 1]}, "order"),
        ({"order": [9, 1, 1]}, "order"),
        ({"max_p": 7}, "max_p"),
        ({"criterion": "hqic"}, "criterion"),
        ({"fourier_terms": 0}, "fourier_terms"),
        ({"max_d": True}, "max_d"),
    ],
)
def test_bad_arima_parameters(params, key):
    with pytest.raises(ValueError, match=f"'{key}'"):
        MODEL.validate_parameters(params)
