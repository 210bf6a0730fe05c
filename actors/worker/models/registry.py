"""Model classes by name (or legacy numeric id); names, ids and parameters are the catalogue's."""

from __future__ import annotations

from actors.worker.models.arima import ArimaModel
from actors.worker.models.auto import AutoModel
from actors.worker.models.base import Model
from actors.worker.models.ces import CesModel
from actors.worker.models.ets import EtsModel
from actors.worker.models.prophet_model import ProphetModel
from actors.worker.models.seasonal_naive import SeasonalNaiveModel
from actors.worker.models.theta import ThetaModel
from protocol.models import (  # noqa: F401 - re-exported for the worker's callers
    LEGACY_MODEL_IDS,
    UnknownModel,
    describe_parameters,
    resolve_model_name,
    validate_parameters,
)

MODELS: dict[str, type[Model]] = {
    cls.name: cls
    for cls in (ArimaModel, ProphetModel, EtsModel, ThetaModel, CesModel, SeasonalNaiveModel,
                AutoModel)
}


def get_model(name: str | int) -> Model:
    """A model instance by name or legacy id; UnknownModel (a ValueError) otherwise."""
    return MODELS[resolve_model_name(name)]()
