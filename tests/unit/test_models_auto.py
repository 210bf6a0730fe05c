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
            "ces": lambda s: s["season_type"] != "N" or s["seasons"]["periods"],
            "seasonal_naive": lambda s: s["period"] >= 2,
            "arima": lambda s: s["period"] >= 2,
        }[member["model"]]
        assert seasonal(member), member["model"]


def test_auto_defaults_to_the_ets_theta_mean_backtested_for_the_report(auto_state, series):
    selection = auto_state["selection"]
    assert auto_state["choice"] == selection["choice"] == "combination"
    assert [m["model"] for m in auto_state["members"]] == ["theta", "ets", "ces",
                                                             "seasonal_naive"]
    assert auto_state["members"][0]["variant"] == "DOTM"
    assert selection["origins"] == 3 and selection["horizon"] == 12
    # the combination and its members (the baseline among them) are backtested, nothing else
    assert set(selection["scores"]) == {"combination", "theta", "ets", "ces", "seasonal_naive"}
    for scores in selection["scores"].values():
        assert set(scores) == {"mase", "smape", "coverage"}
    assert selection["reason"].startswith("the only candidate (backtest MASE")
    assert len(json.dumps(auto_state)) < 20_000
    parts = [get_model(m["model"]).forecast(m, 6) for m in auto_state["members"]]
    combined = get_model("auto").forecast(auto_state, 6)
    for key in ("mean", "lower", "upper"):  # median of four: the mean of the middle two
        middle = np.sort([getattr(p, key) for p in parts], axis=0)[1:3]
        assert getattr(combined, key) == pytest.approx(middle.mean(axis=0).tolist(), rel=1e-12)


def test_auto_combines_by_mean_when_asked_and_in_states_from_before_the_median(series):
    ts, values = series
    model = get_model("auto")
    state = model.train(ts[:-HOLDOUT], values[:-HOLDOUT], {
        "time_precision": "s", "combine": "theta,ets", "combine_with": "mean"})
    parts = [get_model(m["model"]).forecast(m, 6).mean for m in state["members"]]
    expected = np.mean(parts, axis=0).tolist()
    assert model.forecast(state, 6).mean == pytest.approx(expected, rel=1e-12)
    older = dict(state, params={k: v for k, v in state["params"].items()
                                if k != "combine_with"})
    assert model.forecast(older, 6).mean == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="'combine_with'"):
        model.train(ts, values, {"time_precision": "s", "combine_with": "max"})


def test_auto_records_why(series):
    ts, values = series
    state = get_model("auto").train(ts[:-HOLDOUT], values[:-HOLDOUT], {
        "time_precision": "s", "candidates": "seasonal_naive,theta,ets,ces,arima,combination"})
    selection = state["selection"]
    assert selection["choice"] == state["choice"]
    assert selection["origins"] == 3 and selection["horizon"] == 12
    for name in ("seasonal_naive", "theta", "ets", "ces", "arima", "combination"):
        assert set(selection["scores"][name]) == {"mase", "smape", "coverage"}, name
    best = min(v["mase"] for v in selection["scores"].values())
    chosen = selection["scores"][state["choice"]]["mase"]
    assert chosen == best or state["choice"] == "combination" and chosen <= best * 1.5
    assert "MASE" in selection["reason"]


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


HOUR_S = 3600


def hourly(n: int) -> np.ndarray:
    return 1_600_000_000 + HOUR_S * np.arange(n)


def test_auto_trains_on_a_flat_series_and_chooses_again_once_it_varies():
    """NAB art_flatline: a constant history failed the train (ConstantSeries) for good."""
    model = get_model("auto")
    ts, flat = hourly(300), np.full(300, 45.0)
    state = model.train(ts[:100], flat[:100], {})
    assert state["choice"] == "seasonal_naive" and state["selection"]["constant"]
    out = model.forecast(model.fit(state, ts[:120], flat[:120]), 24)
    assert out.mean == [45.0] * 24 and out.lower == out.mean == out.upper
    json.dumps(state)  # the state stays JSON
    # Still flat: the choice stays. Varying (NAB art_daily_*: flat, then a daily pattern):
    # the fit makes the choice again on what it now sees.
    daily = 45.0 + 10 * np.sin(2 * np.pi * np.arange(300) / 24)
    moving = np.concatenate([flat[:100], daily[100:]])
    refit = model.fit(state, ts, moving)
    assert "constant" not in refit["selection"]
    assert refit["selection"]["origins"] > 0


def test_auto_fit_survives_a_member_whose_fit_fails():
    """NAB exchange-4_cpc, Twitter_volume_KO: ETS chosen multiplicative on positive data, a
    zero later, and AutoETS refuses the fit; the whole fit failed until the next train."""
    model = get_model("auto")
    rng = np.random.default_rng(3)
    n = 400
    values = 50 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(n) / 24)) * rng.lognormal(0, .2, n)
    ts = hourly(n)
    state = model.train(ts[:300], values[:300], {"candidates": "ets", "combine": "ets"})
    ets = state["members"][0]
    assert ets["model"] == "ets"
    ets["components"] = "MNNN"  # as AutoETS chooses on some positive series
    later = values.copy()
    later[350] = 0.0
    with pytest.raises(ValueError):
        get_model("ets").fit(ets, ts, later)
    fitted = model.fit(state, ts, later)
    assert "ets" in fitted["selection"]["refit"]
    out = model.forecast(fitted, 24)
    assert np.all(np.isfinite(out.mean)) and fitted["last_ts"] == int(ts[-1])


def test_auto_fit_survives_a_window_gone_constant():
    """A flag that moved once and then stays still: ETS and Theta refuse a constant fit."""
    model = get_model("auto")
    values = np.zeros(400)
    values[50:60] = 1.0
    ts = hourly(400)
    state = model.train(ts[:100], values[:100], {"max_train_points": 100})
    fitted = model.fit(state, ts, values)
    out = model.forecast(fitted, 24)
    assert np.allclose(out.mean, 0.0, atol=1e-6)
