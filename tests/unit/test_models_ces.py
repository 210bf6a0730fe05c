"""The ces model: statsforecast's AutoCES behind the contract, forecasting from its state alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from actors.worker.models.base import InvalidState
from actors.worker.models.registry import get_model

PARAMS = {"seasonal_period": 12, "time_precision": "s"}


def monthly(n: int = 120, seed: int = 0) -> np.ndarray:
    """Trend, a yearly cycle of 12 steps and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)


def test_forecast_from_state_equals_statsforecast():
    from statsforecast.models import AutoCES

    y = monthly()
    model = get_model("ces")
    state = json.loads(json.dumps(model.train(np.arange(len(y)), y, PARAMS), allow_nan=False))
    ours = model.forecast(state, 18, level=0.9)
    theirs = AutoCES(season_length=12).fit(y).predict(18, level=[90])
    assert state["season_type"] in {"S", "P", "F"}
    np.testing.assert_allclose(ours.mean, theirs["mean"], rtol=1e-9)
    # statsforecast simulates 5,000 paths; ours is the exact Gaussian band of the same noise
    np.testing.assert_allclose(np.subtract(ours.upper, ours.mean),
                               theirs["hi-90"] - theirs["mean"], rtol=0.1)


def test_season_type_fixed_by_parameter_and_kept_by_fit():
    y = monthly()
    model = get_model("ces")
    state = model.train(np.arange(100), y[:100], {**PARAMS, "season": "S"})
    assert state["season_type"] == "S" and state["m"] == 12
    refit = model.fit(state, np.arange(len(y)), y)
    assert refit["season_type"] == "S" and refit["n_obs"] == len(y)
    assert refit["last_states"] != state["last_states"]


def test_no_season_without_period():
    y = monthly()
    state = get_model("ces").train(np.arange(len(y)), y, {**PARAMS, "seasonal_period": 0})
    assert state["season_type"] == "N" and len(state["last_states"]) == 1


def test_bad_season_parameter_and_state_rejected():
    y = monthly()
    model = get_model("ces")
    with pytest.raises(ValueError, match="'season'"):
        model.train(np.arange(len(y)), y, {**PARAMS, "season": "X"})
    state = model.train(np.arange(len(y)), y, PARAMS)
    with pytest.raises(InvalidState):
        model.forecast(dict(state, season_type="X"), 3)
    with pytest.raises(InvalidState):
        model.fit(dict(state, season_type="X"), np.arange(len(y)), y)
