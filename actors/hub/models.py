"""Which models a series may use, and their parameters, checked when a series is added."""

from __future__ import annotations

from typing import Any

from protocol import models as registry
from protocol.errors import ErrorCode, ProtocolError


def check_model(model: str | int, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return (model name, parameters with defaults) or raise ProtocolError(INVALID)."""
    try:
        name = registry.resolve_model_name(model)
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID, str(exc)) from None
    if not isinstance(params, dict):
        raise ProtocolError(ErrorCode.INVALID, "model_parameters must be an object")
    try:
        return name, registry.validate_parameters(name, params)
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID, f"model_parameters: {exc}") from None
