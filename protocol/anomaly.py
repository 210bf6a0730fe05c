"""A series' anomaly settings: what an operator chooses, checked once, sent with each forecast job.

The detector that uses them lives with the worker (actors/worker/detector.py, views.py); the
hub checks them when a series is added and serves them, without importing the detector or
numpy. The sensitivity bounds are also those of the hub-wide `anomaly_sensitivity` setting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from protocol.typed import Meta, Shape

DIRECTIONS = ("both", "above", "below")
#: The detector's views of a point (actors/worker/views.py judges with them).
VIEWS = ("forecast", "seasonal", "level", "spread")
COMBINES = ("any", "consensus")
MAX_PERSISTENCE = 1000
MAX_EVENT_GAP = 10**6
DEFAULT_EVENT_GAP = 100
#: Points a series needs before cold-start detection (no model yet) judges the next ones.
COLD_START_MIN_POINTS = 20
#: Chosen by `python -m bench.nab` on the five shipped NAB groups (see docs/anomalies.md).
DEFAULT_SENSITIVITY = 1e-3
DEFAULT_VIEWS = ("seasonal", "level")
DEFAULT_COMBINE = "any"
MIN_SENSITIVITY = 1e-12
MAX_SENSITIVITY = 0.5
SENSITIVITY_RULE = (f"sensitivity must be a probability from {MIN_SENSITIVITY:g} "
                    f"to {MAX_SENSITIVITY:g}")


def check_sensitivity(value: Any, allow_none: bool = False) -> float | None:
    """A probability from MIN_SENSITIVITY to MAX_SENSITIVITY; ValueError otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            MIN_SENSITIVITY <= value <= MAX_SENSITIVITY):
        raise ValueError(SENSITIVITY_RULE)
    return float(value)


class AnomalySettings(Shape, frozen=True, omit_defaults=False):
    """Direction and size of what counts, persistence (k of the last n), the event gap, and
    which views decide how rarely (None: the shipped default, so a series follows a better
    default without being added again)."""

    direction: Literal["both", "above", "below"] = "both"
    min_deviation: Annotated[float, Meta(ge=0)] = 0.0
    k: Annotated[int, Meta(ge=1, le=MAX_PERSISTENCE)] = 1
    n: Annotated[int, Meta(ge=1, le=MAX_PERSISTENCE)] = 1
    event_gap: Annotated[int, Meta(ge=1, le=MAX_EVENT_GAP)] = DEFAULT_EVENT_GAP
    sensitivity: Annotated[float, Meta(ge=MIN_SENSITIVITY, le=MAX_SENSITIVITY)] | None = None
    views: tuple[Literal["forecast", "seasonal", "level", "spread"], ...] | None = None
    combine: Literal["any", "consensus"] | None = None

    #: How each key's problem is worded (operators and tests read these).
    RULES: ClassVar[dict[str, str]] = {
        "direction": "direction must be one of " + ", ".join(DIRECTIONS),
        "min_deviation": "min_deviation must be a finite number >= 0",
        "k": f"k must be an integer from 1 to {MAX_PERSISTENCE}",
        "n": f"n must be an integer from 1 to {MAX_PERSISTENCE}",
        "event_gap": f"event_gap must be an integer from 1 to {MAX_EVENT_GAP}",
        "sensitivity": SENSITIVITY_RULE,
        "views": "views must be a non-empty list of " + ", ".join(VIEWS),
        "combine": "combine must be one of " + ", ".join(COMBINES),
    }

    def __post_init__(self) -> None:
        if not math.isfinite(self.min_deviation):
            raise ValueError(self.RULES["min_deviation"])
        if self.k > self.n:
            raise ValueError("k must not exceed n (k of the last n points)")
        if self.views is not None:
            if not self.views:
                raise ValueError(self.RULES["views"])
            # Each view once, in the order given.
            msgspec.structs.force_setattr(self, "views", tuple(dict.fromkeys(self.views)))

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> AnomalySettings:
        """Checked settings with defaults filled; ValueError names the bad key."""
        if raw is None:
            return cls()
        if isinstance(raw, AnomalySettings):
            return raw
        if not isinstance(raw, Mapping):
            raise ValueError("anomaly settings must be an object")
        unknown = sorted(str(k) for k in raw if k not in cls.__struct_fields__)
        if unknown:
            known = ", ".join(cls.__struct_fields__)
            raise ValueError(f"unknown key {unknown[0]!r} (known: {known})")
        try:
            return msgspec.convert(dict(raw), cls)
        except msgspec.ValidationError as exc:
            text = str(exc)
            for key, rule in cls.RULES.items():
                if f"`$.{key}`" in text or f"`$.{key}[" in text:
                    raise ValueError(rule) from None
            raise ValueError(text) from None

    def to_json(self) -> dict[str, Any]:
        """Every key, defaults included; views as a list."""
        out = {key: getattr(self, key) for key in self.__struct_fields__}
        out["views"] = None if self.views is None else list(self.views)
        return out
