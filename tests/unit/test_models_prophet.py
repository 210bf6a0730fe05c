"""Prophet specifics: seasonality choices, time precision, warm start, bounded sampling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actors.worker.models.prophet_model import MIN_POINTS, ProphetModel, _stan_init
from actors.worker.series_prep import regular_series
from tests.unit.test_models_common import HOUR_MS, START_MS, TRAIN, synthetic_series

MODEL = ProphetModel()


@pytest.fixture(scope="module")
def state() -> dict:
    ts, values = synthetic_series()
    return MODEL.train(ts[:TRAIN], values[:TRAIN], {})


def names(state: dict) -> list[str]:
    return [s["name"] for s in state["seasonalities"]]


def test_calendar_seasonalities_for_a_month_of_hours(state):
    # 30 days of hourly points: daily and weekly qualify (Prophet's own rules), yearly does not;
    # the detected 24-step period is the daily one, so it is not added twice.
    assert names(state) == ["daily", "weekly"]
    assert state["prophet"]["uncertainty_samples"] == 100


def test_seasonal_period_zero_and_explicit():
    ts, values = synthetic_series(300)
    none = MODEL.train(ts, values, {"seasonal_period": 0})
    assert none["seasonalities"] == []
    explicit = MODEL.train(ts, values, {"seasonal_period": 12, "fourier_terms": 3})
    assert explicit["seasonalities"] == [{"name": "seasonal", "period": 0.5, "fourier_order": 3}]


def test_detected_non_calendar_period_is_added():
    rng = np.random.default_rng(8)
    t = np.arange(600)
    values = 20 + 5 * np.sin(2 * np.pi * t / 10) + rng.normal(0, 0.5, 600)
    ts = START_MS + t * 60_000  # minutes: a 10-minute cycle, 10 hours of data
    state = MODEL.train(ts, values, {})
    assert names(state) == ["detected"]
    assert state["seasonalities"][0]["period"] == pytest.approx(10 / 1440)


@pytest.mark.parametrize("precision, scale", [("s", 10**-3), ("us", 10**3), ("ns", 10**6)])
def test_time_precision(state, precision, scale):
    ts, values = synthetic_series()
    stamps = [int(t * scale) if scale >= 1 else int(t // 1000) for t in ts[:TRAIN]]
    other = MODEL.train(stamps, values[:TRAIN], {"time_precision": precision})
    assert names(other) == names(state)
    ours, theirs = MODEL.forecast(state, 12), MODEL.forecast(other, 12)
    assert theirs.timestamps[0] == stamps[-1] + other["step"]
    assert np.allclose(ours.mean, theirs.mean, atol=0.05)


def test_forecast_is_repeatable_and_leaves_global_rng_alone(state):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = MODEL.forecast(state, 24)
    assert np.array_equal(np.random.get_state()[1], before)
    assert MODEL.forecast(state, 24) == first


def test_state_omits_history():
    ts, values = synthetic_series(3000)
    big = MODEL.train(ts, values, {})
    assert len(json.dumps(big)) < 20_000
    assert "trend" not in big["prophet"]["params"]


def test_warm_start_is_rescaled_to_the_new_history(state):
    ts, values = synthetic_series()
    series = regular_series(ts, values, state["params"], MIN_POINTS)
    frame = MODEL._frame(series, state["params"])
    init = _stan_init(state["prophet"], frame, state["params"])
    refit = MODEL.fit(state, ts, values)
    after = {k: np.ravel(v) for k, v in refit["prophet"]["params"].items()}
    # Starting values already close to the optimum in the new scaling.
    assert init["k"] == pytest.approx(after["k"][0], rel=0.1)
    assert init["m"] == pytest.approx(after["m"][0], abs=0.02)
    assert np.allclose(init["beta"], after["beta"], atol=0.01)
    assert len(init["delta"]) == len(after["delta"])


def test_fit_keeps_seasonalities_even_when_span_changes(state):
    ts, values = synthetic_series(24 * 3)  # 3 days only: weekly would no longer qualify
    refit = MODEL.fit(state, ts, values)
    assert refit["seasonalities"] == state["seasonalities"]


@pytest.mark.parametrize(
    "params, key",
    [
        ({"uncertainty_samples": 5000}, "uncertainty_samples"),
        ({"uncertainty_samples": 0}, "uncertainty_samples"),
        ({"growth": "logistic"}, "growth"),
        ({"time_precision": "h"}, "time_precision"),
        ({"changepoint_prior_scale": "0.1"}, "changepoint_prior_scale"),
        ({"seasonality_mode": None}, "seasonality_mode"),
    ],
)
def test_bad_prophet_parameters(params, key):
    with pytest.raises(ValueError, match=f"'{key}'"):
        MODEL.validate_parameters(params)


def test_hour_step_inferred(state):
    assert state["step"] == HOUR_MS
