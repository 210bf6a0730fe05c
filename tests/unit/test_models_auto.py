"""The smoothing models, seasonal naive and `auto`: accuracy on hold-outs, choice, backtests."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actors.worker import accuracy, backtest
from actors.worker.models.registry import get_model
from actors.worker.models.theta import theta_path

MONTH_S = 2_592_000
HOLDOUT = 24


def monthly(n: int = 144, seed: int = 7, trend: float = 0.8, noise: float = 2.0) -> np.ndarray:
    """Monthly-like values: level and trend times a yearly pattern, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 1 + 0.25 * np.sin(2 * np.pi * t / 12) + 0.1 * np.cos(4 * np.pi * t / 12)
    return (200 + trend * t) * season + rng.normal(0, noise, n)


def stamps(n: int) -> np.ndarray:
    return 1_600_000_000 + MONTH_S * np.arange(n)


def mae(a: np.ndarray, b: list[float]) -> float:
    return float(np.mean(np.abs(a - np.asarray(b))))


@pytest.fixture(scope="module")
def series() -> tuple[np.ndarray, np.ndarray]:
    values = monthly()
    return stamps(len(values)), values


@pytest.fixture(scope="module")
def auto_state(series):
    ts, values = series
    return get_model("auto").train(ts[:-HOLDOUT], values[:-HOLDOUT], {"time_precision": "s"})


@pytest.mark.parametrize("name", ["ets", "theta", "seasonal_naive", "auto"])
def test_beats_the_naive_forecast_on_a_seasonal_hold_out(name, series):
    ts, values = series
    model = get_model(name)
    state = model.train(ts[:-HOLDOUT], values[:-HOLDOUT], {"time_precision": "s"})
    forecast = model.forecast(json.loads(json.dumps(state)), HOLDOUT)
    actual = values[-HOLDOUT:]
    naive = np.full(HOLDOUT, values[-HOLDOUT - 1])
    assert mae(actual, forecast.mean) < 0.5 * mae(actual, naive)


def test_auto_picks_a_seasonal_model_on_a_seasonal_series(auto_state):
    assert auto_state["selection"]["period"] == 12
    for member in auto_state["members"]:
        seasonal = {
            "ets": lambda s: s["components"][2] != "N" or s["seasons"]["periods"],
            "theta": lambda s: s["decomposition"] or s["seasons"]["periods"],
            "seasonal_naive": lambda s: s["period"] >= 2,
            "arima": lambda s: s["period"] >= 2,
        }[member["model"]]
        assert seasonal(member), member["model"]


def test_auto_records_why(auto_state):
    selection = auto_state["selection"]
    assert selection["choice"] == auto_state["choice"]
    assert selection["origins"] == 3 and selection["horizon"] == 12
    for name in ("seasonal_naive", "theta", "ets", "arima", "combination"):
        assert set(selection["scores"][name]) == {"mase", "smape", "coverage"}, name
    best = min(v["mase"] for v in selection["scores"].values())
    chosen = selection["scores"][auto_state["choice"]]["mase"]
    assert chosen == best or auto_state["choice"] == "combination" and chosen <= best * 1.5
    assert "MASE" in selection["reason"]
    assert len(json.dumps(auto_state)) < 20_000


def test_auto_on_a_short_series_uses_the_combination(series):
    ts, values = series
    state = get_model("auto").train(ts[:9], values[:9], {"time_precision": "s"})
    assert state["choice"] == "combination"
    assert "too short" in state["selection"]["reason"]
    assert len(get_model("auto").forecast(state, 3)) == 3


def test_auto_records_a_failing_candidate_and_goes_on(series):
    ts, values = series
    state = get_model("auto").train(ts[:25], values[:25], {
        "time_precision": "s", "seasonal_period": 0, "backtest_horizon": 6,
        "candidates": "arima,theta,seasonal_naive"})
    assert "error" in state["selection"]["scores"]["arima"]  # ARIMA needs 20 points
    assert state["choice"] in ("theta", "seasonal_naive")


def test_auto_fit_keeps_the_choice(series, auto_state):
    ts, values = series
    refit = get_model("auto").fit(auto_state, ts, values)
    assert refit["choice"] == auto_state["choice"]
    assert refit["last_ts"] == int(ts[-1])


def test_theta_path_matches_statsforecast():
    from statsforecast.theta import auto_theta, forecast_theta

    y = 50 + np.cumsum(np.random.default_rng(2).normal(0.3, 1, 80))
    for variant in ("STM", "OTM", "DSTM", "DOTM"):
        fitted = auto_theta(y, 1, model=variant)
        state = {"variant": variant, "alpha": fitted["par"]["alpha"],
                 "theta": fitted["par"]["theta"], "n": fitted["n"],
                 "last_state": fitted["states"][-1][:4].tolist()}
        expected = forecast_theta(fitted, 10)["mean"]
        assert theta_path(state, 10) == pytest.approx(expected, rel=1e-9), variant


def test_backtest_plan():
    assert backtest.plan_backtest(100, 10, 3) == backtest.Plan([84, 87, 90], 10)
    assert backtest.plan_backtest(14, 6, 3) == backtest.Plan([10], 4)
    assert backtest.plan_backtest(10, 6, 3) is None
    assert backtest.plan_backtest(40, 12, 3, period=12).cuts == [28]


def test_accuracy_of_a_plain_model(series):
    ts, values = series
    model = get_model("theta")
    params = {"time_precision": "s"}
    state = model.train(ts, values, params)
    report = accuracy.measure(model, state, ts, values, params, horizon=12, level=0.9)
    assert (report["horizon"], report["origins"], report["level"], report["period"]) == (
        12, 3, 0.9, 12)
    assert report["model"]["name"] == "theta"
    assert report["baseline"]["name"] == "seasonal_naive"
    assert 0 <= report["model"]["coverage"] <= 1
    assert report["model"]["mase"] < report["baseline"]["mase"]


def test_accuracy_of_auto_comes_from_its_selection(auto_state, series):
    ts, values = series
    report = accuracy.measure(get_model("auto"), auto_state, ts, values, {}, 12, 0.95)
    choice = auto_state["choice"]
    assert report["model"]["name"] == f"auto:{choice}"
    assert report["model"]["mase"] == auto_state["selection"]["scores"][choice]["mase"]
    assert report["baseline"]["mase"] == auto_state["selection"]["scores"]["seasonal_naive"]["mase"]
