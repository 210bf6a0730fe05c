"""The runtime settings table: every key's type, bounds, default and meaning, in one place.

The hub keeps the current values and changes them over the API (all valid, or nothing
changes); jobs carry the ones a worker needs (protocol/jobs.py); the OpenAPI document and
the docs take their schema from `RuntimeSettings`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

import msgspec
import msgspec.inspect

from protocol.anomaly import DEFAULT_SENSITIVITY, MAX_SENSITIVITY, MIN_SENSITIVITY
from protocol.errors import ErrorCode, ProtocolError
from protocol.typed import Meta, Shape, convert

#: Largest `horizon`: keeps every forecast small enough to store, send and page quickly.
MAX_HORIZON = 10_000


def _doc(text: str, **bounds: float) -> Meta:
    return Meta(description=text, **bounds)


class RuntimeSettings(Shape, omit_defaults=False):
    """Every runtime setting at its current value (the defaults are those below)."""

    min_data_points: Annotated[int, _doc(
        "points a series needs before its first training", ge=10)] = 100
    fit_every: Annotated[int, _doc(
        "new points after which the model is fitted again", ge=1)] = 20
    retrain_every: Annotated[int, _doc(
        "new points after which the model is retrained", ge=1)] = 2000
    retrain_interval: Annotated[float, _doc(
        "seconds after which a model is retrained whatever the count (0 = off)",
        ge=0, le=10**8)] = 86400.0
    # 10,000 steps is a forecast of about 1 MB stored and 10 pages of GET .../forecast;
    # 100,000 made 10.8 MB forecasts that stalled the hub's loop while it served them.
    horizon: Annotated[int, _doc("steps to forecast", ge=1, le=MAX_HORIZON)] = 24
    interval_level: Annotated[float, _doc(
        "coverage of the forecast's band (what people see; not the anomaly decision)",
        ge=0.5, le=0.9999)] = 0.95
    anomaly_sensitivity: Annotated[float, _doc(
        "a point is anomalous when a view finds it rarer than this probability "
        "(series without their own anomaly.sensitivity)",
        ge=MIN_SENSITIVITY, le=MAX_SENSITIVITY)] = DEFAULT_SENSITIVITY
    max_points: Annotated[int, _doc(
        "history read for a model at most", ge=10, le=10_000_000)] = 10_000
    max_job_duration: Annotated[float, _doc(
        "seconds before a model run is killed", ge=1, le=86400)] = 300.0
    max_attempts: Annotated[int, _doc(
        "tries of a job before it fails for good", ge=1, le=100)] = 3
    reconcile_interval: Annotated[float, _doc(
        "seconds between point-count reconciliations with SiriDB", ge=1, le=86400)] = 60.0
    default_model: Annotated[str, Meta(
        description="model of series added without one (a model name)", min_length=1)] = "auto"
    event_log_size: Annotated[int, _doc(
        "events kept in the log", ge=100, le=10_000_000)] = 10_000
    pattern_list_interval: Annotated[float, _doc(
        "seconds between listings of SiriDB for the series each pattern matches",
        ge=1, le=86400)] = 300.0
    pattern_grace: Annotated[float, _doc(
        "seconds a series a pattern added may be missing from SiriDB before it is let go",
        ge=0, le=10**8)] = 86400.0


#: Every key, in the table's order.
KEYS: tuple[str, ...] = RuntimeSettings.__struct_fields__


def _number(value: float) -> str:
    # 10_000_000 reads better as 1e7 in a message; 100000 as it is.
    if value >= 10**6 and float(value).is_integer() and str(int(value)).rstrip("0") == "1":
        return f"1e{len(str(int(value))) - 1}"
    return str(value)


def _bounds(info: Any) -> str:
    if isinstance(info, msgspec.inspect.Metadata):  # the description's wrapper
        info = info.type
    low, high = getattr(info, "ge", None), getattr(info, "le", None)
    if getattr(info, "min_length", None):
        return "a model name"
    if low is not None and high is not None:
        return f"{_number(low)} to {_number(high)}"
    return f">= {_number(low)}"


#: What each key "must be", worded from the bounds above (for the hub's messages).
RuntimeSettings.BOUNDS = {  # type: ignore[attr-defined]
    field.name: _bounds(field.type)
    for field in msgspec.inspect.type_info(RuntimeSettings).fields
}


def rules() -> dict[str, tuple[str, str]]:
    """Each key's range (as messages say it) and what it does, for forms and docs."""
    docs = {
        field.name: (getattr(field.type, "extra_json_schema", None) or {}).get("description", "")
        for field in msgspec.inspect.type_info(RuntimeSettings).fields
    }
    return {key: (RuntimeSettings.BOUNDS[key], docs[key]) for key in KEYS}


def defaults() -> dict[str, Any]:
    """Return every setting at its default."""
    return RuntimeSettings().to_dict()


def validate_changes(
    changes: Mapping[str, Any], check_model: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Return changes normalised, or raise ProtocolError(INVALID) naming the first bad key."""
    if not isinstance(changes, Mapping) or not changes:
        raise ProtocolError(ErrorCode.INVALID, "settings: expected a non-empty object")
    for key in changes:
        if key not in KEYS:
            raise ProtocolError(ErrorCode.INVALID, f"settings: unknown key {key!r}")
    # The keys left out take defaults here, which pass: only the changes are checked.
    checked = convert(dict(changes), RuntimeSettings, "settings")
    clean = {key: getattr(checked, key) for key in changes}
    if "default_model" in clean and check_model is not None:
        check_model(clean["default_model"])
    return clean



def stored_settings(
    stored: Mapping[str, Any], warn: Callable[[str], None]
) -> dict[str, Any]:
    """Return the stored settings that are still valid; warn about each other one.

    A limit may have been narrowed since a value was stored (horizon was allowed up to
    100000): such a value falls back to its default rather than bypass the new limit.
    """
    kept: dict[str, Any] = {}
    table = defaults()
    for key, value in stored.items():
        try:
            kept.update(validate_changes({key: value}))
        except ProtocolError as exc:
            warn(f"stored setting ignored, {key} = {table.get(key)!r} instead: {exc.message}")
    return kept
