"""A series' anomaly settings: what an operator chooses, checked once, sent with each forecast job.

The detector that uses them lives with the worker (actors/worker/detector.py); the hub checks
them when a series is added and serves them, without importing the detector or numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from protocol.typed import Meta, Shape

DIRECTIONS = ("both", "above", "below")
MAX_PERSISTENCE = 1000
MAX_EVENT_GAP = 10**6
DEFAULT_EVENT_GAP = 100
#: Points a series needs before cold-start detection (no model yet) judges the next ones.
COLD_START_MIN_POINTS = 20


class AnomalySettings(Shape, frozen=True):
    """Direction and size of what counts, persistence (k of the last n), and the event gap."""

    direction: Literal["both", "above", "below"] = "both"
    min_deviation: Annotated[float, Meta(ge=0)] = 0.0
    k: Annotated[int, Meta(ge=1, le=MAX_PERSISTENCE)] = 1
    n: Annotated[int, Meta(ge=1, le=MAX_PERSISTENCE)] = 1
    event_gap: Annotated[int, Meta(ge=1, le=MAX_EVENT_GAP)] = DEFAULT_EVENT_GAP

    #: How each key's problem is worded (operators and tests read these).
    RULES: ClassVar[dict[str, str]] = {
        "direction": "direction must be one of " + ", ".join(DIRECTIONS),
        "min_deviation": "min_deviation must be a finite number >= 0",
        "k": f"k must be an integer from 1 to {MAX_PERSISTENCE}",
        "n": f"n must be an integer from 1 to {MAX_PERSISTENCE}",
        "event_gap": f"event_gap must be an integer from 1 to {MAX_EVENT_GAP}",
    }

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(self.RULES["direction"])
        if not math.isfinite(self.min_deviation) or self.min_deviation < 0:
            raise ValueError(self.RULES["min_deviation"])
        for key, high in (("k", MAX_PERSISTENCE), ("n", MAX_PERSISTENCE),
                          ("event_gap", MAX_EVENT_GAP)):
            if not 1 <= getattr(self, key) <= high:
                raise ValueError(self.RULES[key])
        if self.k > self.n:
            raise ValueError("k must not exceed n (k of the last n points)")

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
                if text.endswith(f"`$.{key}`"):
                    raise ValueError(rule) from None
            raise ValueError(text) from None

    def to_json(self) -> dict[str, Any]:
        """Every key, defaults included (omit_defaults would leave them out)."""
        return {key: getattr(self, key) for key in self.__struct_fields__}
