"""Model lookup by name (or legacy numeric id) and parameter validation for the hub."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors.worker.models.arima import ArimaModel
from actors.worker.models.auto import AutoModel
from actors.worker.models.base import Model
from actors.worker.models.ets import EtsModel
from actors.worker.models.prophet_model import ProphetModel
from actors.worker.models.seasonal_naive import SeasonalNaiveModel
from actors.worker.models.theta import ThetaModel

MODELS: dict[str, type[Model]] = {
    cls.name: cls
    for cls in (ArimaModel, ProphetModel, EtsModel, ThetaModel, SeasonalNaiveModel, AutoModel)
}
LEGACY_MODEL_IDS: dict[int, str] = {1: "arima", 2: "prophet"}


class UnknownModel(ValueError):
    """No model has this name or legacy id."""


def resolve_model_name(name: str | int) -> str:
    """Canonical model name for a name or a legacy numeric id ("2" too); UnknownModel otherwise."""
    if isinstance(name, bool):
        raise UnknownModel(f"unknown model {name!r}")
    if isinstance(name, int):
        key: Any = name
    elif isinstance(name, str) and name.strip().isdigit():
        key = int(name.strip())
    else:
        key = name.strip().lower() if isinstance(name, str) else name
    if isinstance(key, int):
        if key not in LEGACY_MODEL_IDS:
            raise UnknownModel(f"unknown model id {key} (known: {sorted(LEGACY_MODEL_IDS)})")
        return LEGACY_MODEL_IDS[key]
    if key not in MODELS:
        raise UnknownModel(f"unknown model {name!r} (known: {', '.join(sorted(MODELS))})")
    return key


def get_model(name: str | int) -> Model:
    """A model instance by name or legacy id; UnknownModel (a ValueError) otherwise."""
    return MODELS[resolve_model_name(name)]()


def validate_parameters(name: str | int, params: Mapping[str, Any] | None) -> dict:
    """Checked parameters of a model with defaults filled; ValueError names the bad key."""
    return MODELS[resolve_model_name(name)].validate_parameters(params)


def describe_parameters(name: str | int) -> dict[str, dict]:
    """Each parameter's kind, default and description, e.g. for an API listing."""
    specs = MODELS[resolve_model_name(name)].parameters
    return {
        key: {"kind": p.kind, "default": p.default, "nullable": p.nullable, "doc": p.doc}
        for key, p in specs.items()
    }
