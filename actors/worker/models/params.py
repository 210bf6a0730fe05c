"""Declared model parameters: type, default and range, checked in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from actors.worker.series_prep import DEFAULT_MAX_GAP_STEPS, DEFAULT_MAX_PERIOD

TIME_PRECISIONS = ("s", "ms", "us", "ns")


@dataclass(frozen=True)
class Param:
    """One parameter: accepted kind ("int", "float", "str", "int_list"), default, extra check."""

    kind: str
    default: Any
    nullable: bool = False
    check: Callable[[Any], str | None] | None = None  # returns a complaint, or None when fine
    doc: str = ""


def at_least(low: float) -> Callable[[Any], str | None]:
    """Check that a number is >= low."""
    return lambda v: None if v >= low else f"must be >= {low}"


def between(low: float, high: float) -> Callable[[Any], str | None]:
    """Check that a number lies in [low, high]."""
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}"


def positive(v: float) -> str | None:
    """Check that a number is > 0."""
    return None if v > 0 else "must be > 0"


def one_of(*choices: str) -> Callable[[Any], str | None]:
    """Check that a string is one of the choices."""
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


COMMON_PARAMETERS: dict[str, Param] = {
    "seasonal_period": Param(
        "int", None, nullable=True, check=at_least(0),
        doc="season length in steps; null detects it from the data, 0 disables seasonality",
    ),
    "max_seasonal_period": Param(
        "int", DEFAULT_MAX_PERIOD, check=at_least(2), doc="longest period detection considers",
    ),
    "fourier_terms": Param(
        "int", None, nullable=True, check=between(1, 50),
        doc="harmonics of the seasonal period; null chooses",
    ),
    "max_train_points": Param(
        "int", 5000, check=at_least(20), doc="most recent grid points used to train and fit",
    ),
    "max_gap_steps": Param(
        "int", DEFAULT_MAX_GAP_STEPS, check=at_least(0),
        doc="longest run of missing steps interpolated; history before a longer gap is dropped",
    ),
    "time_precision": Param(
        "str", "ms", check=one_of(*TIME_PRECISIONS), doc="unit of the series' integer timestamps",
    ),
}


def _coerce(key: str, spec: Param, value: Any) -> Any:
    if value is None:
        if spec.nullable:
            return None
        raise ValueError(f"parameter {key!r}: must not be null")
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"parameter {key!r}: expected an integer, got {type(value).__name__}")
    elif spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"parameter {key!r}: expected a number, got {type(value).__name__}")
        value = float(value)
    elif spec.kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"parameter {key!r}: expected a string, got {type(value).__name__}")
    elif spec.kind == "int_list":
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ValueError(f"parameter {key!r}: expected a list of integers")
        value = [int(v) for v in value]
    if spec.check is not None:
        complaint = spec.check(value)
        if complaint:
            raise ValueError(f"parameter {key!r}: {complaint} (got {value!r})")
    return value


def check_parameters(specs: Mapping[str, Param], params: Mapping[str, Any] | None) -> dict:
    """Validated copy of params with defaults filled; ValueError names the offending key."""
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ValueError(f"model parameters must be an object, got {type(params).__name__}")
    unknown = sorted(str(k) for k in params if k not in specs)
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(specs))})")
    return {key: _coerce(key, spec, params.get(key, spec.default)) for key, spec in specs.items()}
