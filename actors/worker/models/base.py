"""The contract every forecasting model follows, and the forecast it returns.

A model object holds no data: everything it learned lives in the JSON-serialisable `state` dict
that `train` and `fit` return and `forecast` reads, so the hub can store it and any worker can use
it. Every state carries `model` (the model name), `version`, `step`, `last_ts` and `params` (the
validated parameters); the rest is model specific.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from actors.worker.models.params import Param, check_parameters
from actors.worker.series_prep import RegularSeries, regular_series, require_variation


class InvalidState(ValueError):
    """A model state that this model cannot use (other model, other version, missing keys)."""


@dataclass(frozen=True)
class Forecast:
    """Predicted mean and interval at future timestamps (the series' own precision)."""

    timestamps: list[int]
    mean: list[float]
    lower: list[float]
    upper: list[float]
    level: float

    def __post_init__(self) -> None:
        sizes = {len(self.timestamps), len(self.mean), len(self.lower), len(self.upper)}
        if len(sizes) != 1:
            raise ValueError("forecast timestamps, mean, lower and upper differ in length")
        if not 0.0 < self.level < 1.0:
            raise ValueError(f"forecast level must be in (0, 1), got {self.level!r}")
        if any(b <= a for a, b in zip(self.timestamps, self.timestamps[1:], strict=False)):
            raise ValueError("forecast timestamps must increase")

    def __len__(self) -> int:
        return len(self.timestamps)

    def to_json(self) -> dict:
        """Plain dict for ujson/json."""
        return {
            "timestamps": list(self.timestamps),
            "mean": list(self.mean),
            "lower": list(self.lower),
            "upper": list(self.upper),
            "level": self.level,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Forecast:
        """Inverse of to_json; ValueError on a malformed dict."""
        try:
            return cls(
                timestamps=[int(t) for t in d["timestamps"]],
                mean=[float(v) for v in d["mean"]],
                lower=[float(v) for v in d["lower"]],
                upper=[float(v) for v in d["upper"]],
                level=float(d["level"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed forecast: {exc!r}") from None


def check_forecast_args(horizon: int, level: float) -> None:
    """ValueError unless horizon is a positive int and 0 < level < 1."""
    if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    if not (0.0 < level < 1.0 and math.isfinite(level)):
        raise ValueError(f"level must be in (0, 1), got {level!r}")


class Model(ABC):
    """A forecasting model: train (structure and fit), fit (parameters only), forecast."""

    name: ClassVar[str]
    state_version: ClassVar[int] = 1
    #: Fewest regular points the model trains or fits on.
    min_points: ClassVar[int]
    parameters: ClassVar[dict[str, Param]]
    #: Whether train() accepts a constant history (a flat metric: a disk that never changes).
    constant_ok: ClassVar[bool] = False

    @classmethod
    def validate_parameters(cls, params: Mapping[str, Any] | None) -> dict:
        """Checked parameters with defaults filled; ValueError names a bad key."""
        return check_parameters(cls.parameters, params)

    @abstractmethod
    def train(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any]
    ) -> dict:
        """Choose the structure and fit it; return the state."""

    @abstractmethod
    def fit(self, state: dict, timestamps: Sequence[int], values: Sequence[float]) -> dict:
        """Keep the state's structure, re-estimate its parameters on the history; new state."""

    @abstractmethod
    def forecast(self, state: dict, horizon: int, level: float = 0.95) -> Forecast:
        """Forecast `horizon` steps after the state's last timestamp."""

    def training_series(
        self, timestamps: Sequence[int], values: Sequence[float], params: Mapping[str, Any] | None
    ) -> tuple[dict, RegularSeries]:
        """train()'s first step: the checked parameters and the regular grid, which must vary
        (unless the model has a meaning for a constant history: `constant_ok`)."""
        params = self.validate_parameters(params)
        series = regular_series(timestamps, values, params, self.min_points)
        if not self.constant_ok:
            require_variation(series.values)
        return params, series

    def fitting_series(
        self, state: Any, keys: Sequence[str], timestamps: Sequence[int],
        values: Sequence[float], anchor: str = "last_ts",
    ) -> tuple[dict, RegularSeries]:
        """fit()'s first step: the state checked, its parameters, the history on its grid
        (the state's step, aligned on its `anchor` timestamp)."""
        self.check_state(state, keys)
        params = self.validate_parameters(state["params"])
        series = regular_series(timestamps, values, params, self.min_points, state["step"],
                                state[anchor])
        return params, series

    def state_header(self, params: Mapping[str, Any], series: RegularSeries) -> dict:
        """The keys every state begins with: model, version, params, grid step, last ts, size."""
        return {
            "model": self.name,
            "version": self.state_version,
            "params": dict(params),
            "step": series.step,
            "last_ts": series.last_ts,
            "n_obs": len(series),
        }

    def check_state(self, state: Any, keys: Sequence[str] = ()) -> None:
        """Raise InvalidState unless state is this model's, of this version, with these keys."""
        if not isinstance(state, Mapping):
            raise InvalidState(f"{self.name} state must be an object, got {type(state).__name__}")
        if state.get("model") != self.name:
            raise InvalidState(f"state belongs to model {state.get('model')!r}, not {self.name!r}")
        if state.get("version") != self.state_version:
            raise InvalidState(
                f"{self.name} state version {state.get('version')!r} is not {self.state_version}"
            )
        missing = [k for k in ("step", "last_ts", "params", *keys) if k not in state]
        if missing:
            raise InvalidState(f"{self.name} state lacks {', '.join(missing)}")
