"""The model contract, checked for every registered model on one synthetic seasonal series.

Accuracy is measured as MASE on a 48-step hold-out: mean |error| divided by the in-sample mean
absolute one-step change. Each model's MASE must beat the naive forecast (the last training value
repeated), by a clear margin.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from actors.worker.models.base import Forecast, InvalidState
from actors.worker.models.registry import MODELS, get_model
from actors.worker.series_prep import ConstantSeries, TooFewPoints

HOUR_MS = 3_600_000
START_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z
TRAIN = 720  # 30 days of hourly points
HOLDOUT = 48


def synthetic_series(n: int = TRAIN + HOLDOUT, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Hourly points: trend, a daily cycle with two harmonics, Gaussian noise (fixed seed)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = (
        100.0
        + 0.05 * t
        + 8.0 * np.sin(2 * np.pi * t / 24)
        + 3.0 * np.cos(4 * np.pi * t / 24)
        + rng.normal(0.0, 1.5, n)
    )
    return START_MS + t * HOUR_MS, values


def mase(actual: np.ndarray, predicted: np.ndarray, history: np.ndarray) -> float:
    """Mean absolute scaled error against the in-sample one-step naive forecast."""
    scale = np.mean(np.abs(np.diff(history)))
    return float(np.mean(np.abs(actual - predicted)) / scale)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return synthetic_series()


@pytest.fixture(scope="module", params=sorted(MODELS))
def trained(request, data):
    model = get_model(request.param)
    ts, values = data
    return model, model.train(ts[:TRAIN], values[:TRAIN], {})


def test_mase_beats_naive_last_value(trained, data):
    model, state = trained
    ts, values = data
    history, actual = values[:TRAIN], values[TRAIN:]
    forecast = model.forecast(state, HOLDOUT)
    model_mase = mase(actual, np.asarray(forecast.mean), history)
    naive_mase = mase(actual, np.full(HOLDOUT, history[-1]), history)
    print(f"{model.name}: MASE {model_mase:.3f}, naive last value {naive_mase:.3f}")
    assert model_mase < naive_mase
    assert model_mase < 0.5 * naive_mase


def test_forecast_shape_and_intervals(trained, data):
    model, state = trained
    ts, _ = data
    forecast = model.forecast(state, 24, level=0.9)
    assert isinstance(forecast, Forecast)
    assert forecast.level == 0.9
    assert forecast.timestamps == [int(ts[TRAIN - 1] + k * HOUR_MS) for k in range(1, 25)]
    mean, lower, upper = map(np.asarray, (forecast.mean, forecast.lower, forecast.upper))
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))
    assert np.all(lower <= mean) and np.all(mean <= upper)
    assert np.all(upper - lower > 0)


def test_higher_level_gives_wider_interval(trained):
    model, state = trained
    narrow = model.forecast(state, 12, level=0.5)
    wide = model.forecast(state, 12, level=0.99)
    assert np.all(np.subtract(wide.upper, wide.lower) > np.subtract(narrow.upper, narrow.lower))


def test_holdout_mostly_inside_95_interval(trained, data):
    model, state = trained
    _, values = data
    forecast = model.forecast(state, HOLDOUT, level=0.95)
    actual = values[TRAIN:]
    inside = (actual >= forecast.lower) & (actual <= forecast.upper)
    assert inside.mean() >= 0.75


def test_state_survives_json_and_gives_same_forecast(trained):
    model, state = trained
    text = json.dumps(state, allow_nan=False)
    restored = json.loads(text)
    assert model.forecast(restored, 24) == model.forecast(state, 24)
    assert get_model(model.name).forecast(restored, 24).to_json() == json.loads(
        json.dumps(model.forecast(state, 24).to_json())
    )


def test_state_is_small(trained):
    _, state = trained
    assert len(json.dumps(state)) < 20_000


def test_fit_keeps_structure_and_moves_on(trained, data):
    model, state = trained
    ts, values = data
    refit = model.fit(json.loads(json.dumps(state)), ts, values)
    json.dumps(refit, allow_nan=False)
    structural = {"arima": ("order", "period", "fourier_order", "trend"),
                  "prophet": ("seasonalities",), "ets": ("components", "m"),
                  "theta": ("variant",), "ces": ("season_type", "m"),
                  "seasonal_naive": ("period",),
                  "auto": ("choice", "selection")}[model.name]
    for key in structural:
        assert refit[key] == state[key], key
    assert refit["params"] == state["params"]
    assert refit["last_ts"] == int(ts[-1])
    forecast = model.forecast(refit, 3)
    assert forecast.timestamps == [int(ts[-1] + k * HOUR_MS) for k in (1, 2, 3)]


def test_fit_on_new_points_tracks_the_series(trained, data):
    model, state = trained
    if model.name == "seasonal_naive":
        pytest.skip("the benchmark's error is the seasonal difference itself (MASE about 1)")
    ts, values = data
    refit = model.fit(state, ts[: TRAIN + 24], values[: TRAIN + 24])
    forecast = model.forecast(refit, 24)
    history = values[: TRAIN + 24]
    assert mase(values[TRAIN + 24:], np.asarray(forecast.mean), history) < 1.0


def test_unknown_parameter_rejected(trained, data):
    model, _ = trained
    ts, values = data
    with pytest.raises(ValueError, match="'no_such_knob'"):
        model.train(ts[:TRAIN], values[:TRAIN], {"no_such_knob": 1})


def test_wrong_parameter_type_rejected(trained, data):
    model, _ = trained
    ts, values = data
    with pytest.raises(ValueError, match="'seasonal_period'"):
        model.train(ts[:TRAIN], values[:TRAIN], {"seasonal_period": "24"})
    with pytest.raises(ValueError, match="'max_train_points'"):
        model.validate_parameters({"max_train_points": 5})


def test_too_few_points(trained, data):
    model, _ = trained
    ts, values = data
    with pytest.raises(TooFewPoints):
        model.train(ts[:5], values[:5], {})
    with pytest.raises(TooFewPoints):
        model.train(ts[:100], np.full(100, np.nan), {})


def test_constant_series(trained, data):
    """A constant history: refused, or (seasonal naive, auto) a flat forecast, a 0-wide band."""
    model, _ = trained
    ts, _ = data
    if not model.constant_ok:
        with pytest.raises(ConstantSeries):
            model.train(ts[:200], np.full(200, 3.0), {})
        return
    state = model.train(ts[:200], np.full(200, 3.0), {})
    out = model.forecast(model.fit(state, ts[:210], np.full(210, 3.0)), 5)
    assert out.mean == [3.0] * 5 and out.lower == out.mean and out.upper == out.mean


def test_other_models_state_rejected(trained):
    model, state = trained
    other = dict(state, model="something-else")
    with pytest.raises(InvalidState):
        model.forecast(other, 5)
    with pytest.raises(InvalidState):
        model.forecast(dict(state, version=99), 5)


def test_numpy_scalars_are_fine_as_arguments(trained):
    model, state = trained
    forecast = model.forecast(state, np.int64(3), np.float64(0.8))
    assert len(forecast) == 3 and forecast.level == 0.8


@pytest.mark.parametrize(
    "horizon, level", [(0, 0.95), (-3, 0.95), (2.5, 0.95), (True, 0.95), (5, 1.0), (5, 0), (5, "x")]
)
def test_bad_forecast_arguments(trained, horizon, level):
    model, state = trained
    with pytest.raises(ValueError):
        model.forecast(state, horizon, level)


def test_irregular_timestamps_with_duplicates(trained, data):
    model, _ = trained
    ts, values = data
    rng = np.random.default_rng(3)
    jittered = ts[:400] + rng.integers(-HOUR_MS // 5, HOUR_MS // 5, 400)
    keep = rng.random(400) > 0.1  # drop a tenth: small gaps
    stamps = np.r_[jittered[keep], jittered[keep][:50]]  # and duplicates
    vals = np.r_[values[:400][keep], values[:400][keep][:50]]
    state = model.train(stamps.tolist(), vals.tolist(), {})
    assert state["step"] == HOUR_MS
    forecast = model.forecast(state, 6)
    assert len(forecast) == 6
