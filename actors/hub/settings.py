"""Runtime settings the operator changes over REST: names, types, ranges, defaults."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from actors.worker.detector import DEFAULT_SENSITIVITY, MAX_SENSITIVITY, MIN_SENSITIVITY
from protocol.errors import ErrorCode, ProtocolError


@dataclass(frozen=True)
class Setting:
    """One setting: its JSON type, default, valid range and what it does."""

    type: type
    default: Any
    check: Callable[[Any], bool]
    rule: str
    doc: str


#: Largest `horizon`: keeps every forecast small enough to store, send and page quickly.
MAX_HORIZON = 10_000


def _int_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: v >= low


def _between(low: float, high: float) -> Callable[[Any], bool]:
    return lambda v: low <= v <= high


SETTINGS: dict[str, Setting] = {
    "min_data_points": Setting(
        int, 100, _int_at_least(10), ">= 10", "points a series needs before its first training"
    ),
    "fit_every": Setting(
        int, 20, _int_at_least(1), ">= 1", "new points after which the model is fitted again"
    ),
    "retrain_every": Setting(
        int, 2000, _int_at_least(1), ">= 1", "new points after which the model is retrained"
    ),
    "retrain_interval": Setting(
        float, 86400.0, _between(0, 10**8), "0 to 1e8 (0 = off)",
        "seconds after which a model is retrained whatever the count",
    ),
    # 10,000 steps is a forecast of about 1 MB stored and 10 pages of GET .../forecast;
    # 100,000 made 10.8 MB forecasts that stalled the hub's loop while it served them.
    "horizon": Setting(
        int, 24, _between(1, MAX_HORIZON), f"1 to {MAX_HORIZON}", "steps to forecast"
    ),
    "interval_level": Setting(
        float, 0.95, _between(0.5, 0.9999), "0.5 to 0.9999",
        "coverage of the forecast's band (what people see; not the anomaly decision)"
    ),
    "anomaly_sensitivity": Setting(
        float, DEFAULT_SENSITIVITY, _between(MIN_SENSITIVITY, MAX_SENSITIVITY),
        f"{MIN_SENSITIVITY:g} to {MAX_SENSITIVITY:g}",
        "a point is anomalous when a view finds it rarer than this probability "
        "(series without their own anomaly.sensitivity)",
    ),
    "max_points": Setting(
        int, 10_000, _between(10, 10_000_000), "10 to 1e7", "history read for a model at most"
    ),
    "max_job_duration": Setting(
        float, 300.0, _between(1, 86400), "1 to 86400", "seconds before a model run is killed"
    ),
    "max_attempts": Setting(
        int, 3, _between(1, 100), "1 to 100", "tries of a job before it fails for good"
    ),
    "reconcile_interval": Setting(
        float, 60.0, _between(1, 86400), "1 to 86400",
        "seconds between point-count reconciliations with SiriDB",
    ),
    "default_model": Setting(
        str, "auto", lambda v: bool(v), "a model name", "model of series added without one"
    ),
    "event_log_size": Setting(
        int, 10_000, _between(100, 10_000_000), "100 to 1e7", "events kept in the log"
    ),
}


def defaults() -> dict[str, Any]:
    """Return every setting at its default."""
    return {key: s.default for key, s in SETTINGS.items()}


def validate_changes(
    changes: Mapping[str, Any], check_model: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Return changes normalised, or raise ProtocolError(INVALID) naming the first bad key."""
    if not isinstance(changes, Mapping) or not changes:
        raise ProtocolError(ErrorCode.INVALID, "settings: expected a non-empty object")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        setting = SETTINGS.get(key)
        if setting is None:
            raise ProtocolError(ErrorCode.INVALID, f"settings: unknown key {key!r}")
        if isinstance(value, bool) or not isinstance(value, _accepted(setting.type)):
            raise ProtocolError(
                ErrorCode.INVALID,
                f"settings: {key!r} must be {setting.type.__name__}, not {type(value).__name__}",
            )
        value = setting.type(value)
        if not setting.check(value):
            raise ProtocolError(ErrorCode.INVALID, f"settings: {key!r} must be {setting.rule}")
        if key == "default_model" and check_model is not None:
            check_model(value)
        clean[key] = value
    return clean


def stored_settings(
    stored: Mapping[str, Any], warn: Callable[[str], None]
) -> dict[str, Any]:
    """Return the stored settings that are still valid; warn about each other one.

    A limit may have been narrowed since a value was stored (horizon was allowed up to
    100000): such a value falls back to its default rather than bypass the new limit.
    """
    kept: dict[str, Any] = {}
    for key, value in stored.items():
        try:
            kept.update(validate_changes({key: value}))
        except ProtocolError as exc:
            default = SETTINGS[key].default if key in SETTINGS else None
            warn(f"stored setting ignored, {key} = {default!r} instead: {exc.message}")
    return kept


def _accepted(kind: type) -> tuple[type, ...]:
    # A whole number is a fine float; a float is not a fine int.
    return (int, float) if kind is float else (kind,)
