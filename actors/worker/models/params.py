"""Declared model parameters: the catalogue's (protocol/models.py), checked in one place."""

from protocol.models import (  # noqa: F401 - the models' parameter API, from the catalogue
    COMMON_PARAMETERS,
    DEFAULT_MAX_GAP_STEPS,
    DEFAULT_MAX_PERIOD,
    TIME_PRECISIONS,
    Param,
    check_parameters,
)
