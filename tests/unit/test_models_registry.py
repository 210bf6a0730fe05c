"""Model lookup, legacy ids, parameter validation and the Forecast wire form."""

from __future__ import annotations

import json

import pytest

from actors.worker.models.arima import ArimaModel
from actors.worker.models.auto import AutoModel
from actors.worker.models.base import Forecast
from actors.worker.models.ces import CesModel
from actors.worker.models.ets import EtsModel
from actors.worker.models.prophet_model import ProphetModel
from actors.worker.models.registry import (
    LEGACY_MODEL_IDS,
    MODELS,
    UnknownModel,
    describe_parameters,
    get_model,
    resolve_model_name,
    validate_parameters,
)
from actors.worker.models.seasonal_naive import SeasonalNaiveModel
from actors.worker.models.theta import ThetaModel


def test_models_and_legacy_ids():
    assert MODELS == {"arima": ArimaModel, "prophet": ProphetModel, "ets": EtsModel,
                      "theta": ThetaModel, "ces": CesModel, "seasonal_naive": SeasonalNaiveModel,
                      "auto": AutoModel}
    assert LEGACY_MODEL_IDS == {1: "arima", 2: "prophet"}
    assert isinstance(get_model("arima"), ArimaModel)
    assert isinstance(get_model("Prophet"), ProphetModel)
    assert isinstance(get_model(1), ArimaModel)
    assert isinstance(get_model("2"), ProphetModel)
    assert resolve_model_name(" ARIMA ") == "arima"


@pytest.mark.parametrize("name", ["holt", 3, 0, "", True, None, 1.0])
def test_unknown_model(name):
    with pytest.raises(UnknownModel):
        get_model(name)
    with pytest.raises(ValueError):
        validate_parameters(name, {})


def test_defaults_filled():
    params = validate_parameters("arima", None)
    assert params["seasonal_period"] is None
    assert params["order"] is None
    assert params["criterion"] == "aicc"
    assert params["time_precision"] == "ms"
    assert validate_parameters(2, {})["uncertainty_samples"] == 100


def test_values_kept_and_coerced():
    params = validate_parameters("prophet", {"changepoint_prior_scale": 1, "seasonal_period": 0})
    assert params["changepoint_prior_scale"] == 1.0
    assert isinstance(params["changepoint_prior_scale"], float)
    assert params["seasonal_period"] == 0
    assert validate_parameters("arima", {"order": (1, 1, 2)})["order"] == [1, 1, 2]
    assert validate_parameters("arima", {"seasonal_period": None})["seasonal_period"] is None


@pytest.mark.parametrize(
    "name, params, key",
    [
        ("arima", {"bogus": 1}, "bogus"),
        ("arima", {"seasonal_period": 2.0}, "seasonal_period"),
        ("arima", {"seasonal_period": True}, "seasonal_period"),
        ("arima", {"seasonal_period": -1}, "seasonal_period"),
        ("arima", {"order": "1,1,1"}, "order"),
        ("arima", {"order": [1, True, 1]}, "order"),
        ("arima", {"uncertainty_samples": 50}, "uncertainty_samples"),
        ("prophet", {"order": [1, 1, 1]}, "order"),
        ("prophet", {"changepoint_prior_scale": -1.0}, "changepoint_prior_scale"),
        ("prophet", {"max_gap_steps": None}, "max_gap_steps"),
    ],
)
def test_bad_parameters_name_the_key(name, params, key):
    with pytest.raises(ValueError, match=f"'{key}'"):
        validate_parameters(name, params)


def test_parameters_must_be_an_object():
    with pytest.raises(ValueError, match="object"):
        validate_parameters("arima", [("order", [1, 1, 1])])


def test_describe_parameters_is_json():
    described = describe_parameters("prophet")
    assert described["uncertainty_samples"]["default"] == 100
    json.dumps(described)


def test_forecast_json_round_trip():
    forecast = Forecast([10, 20], [1.0, 2.0], [0.5, 1.0], [1.5, 3.0], 0.9)
    wire = json.loads(json.dumps(forecast.to_json()))
    assert wire == {"timestamps": [10, 20], "mean": [1.0, 2.0], "lower": [0.5, 1.0],
                    "upper": [1.5, 3.0], "level": 0.9}
    assert Forecast.from_json(wire) == forecast


@pytest.mark.parametrize(
    "wire",
    [
        {"timestamps": [1, 2], "mean": [1.0], "lower": [1.0], "upper": [1.0], "level": 0.9},
        {"timestamps": [2, 1], "mean": [1, 1], "lower": [1, 1], "upper": [1, 1], "level": 0.9},
        {"timestamps": [1], "mean": [1.0], "lower": [1.0], "upper": [1.0], "level": 1.5},
        {"timestamps": [1], "mean": [1.0], "lower": [1.0], "upper": [1.0]},
        {"timestamps": None, "mean": [1.0], "lower": [1.0], "upper": [1.0], "level": 0.9},
    ],
)
def test_malformed_forecast_rejected(wire):
    with pytest.raises(ValueError):
        Forecast.from_json(wire)


def test_the_catalogue_and_the_worker_models_agree():
    # The hub checks models from the catalogue (protocol/models.py) without importing a
    # model; the worker runs the classes: both must know the same models and parameters.
    from actors.worker.models.registry import MODELS
    from protocol.models import MODEL_NAMES, PARAMETERS

    assert set(MODELS) == set(MODEL_NAMES) == set(PARAMETERS)
    for name, cls in MODELS.items():
        assert cls.parameters is PARAMETERS[name]
        assert cls.min_points <= cls.parameters["max_train_points"].ge
