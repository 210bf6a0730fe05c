"""Seasonality for the smoothing models (ETS, Theta): native seasons or Fourier terms.

A single short period (at most MAX_NATIVE_PERIOD steps, e.g. 12 months, 24 hours) is left to the
model's own seasonal states. A long period, or several (a daily and a weekly cycle), are removed
first by least squares on Fourier terms (with a constant and a linear trend in the regression,
only the Fourier part is subtracted); the model then smooths what is left, and the forecast adds
the Fourier part back at the future steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from actors.worker.series_prep import detect_periods, fourier_terms

MAX_NATIVE_PERIOD = 24
MAX_HARMONICS = 10


@dataclass(frozen=True)
class Seasons:
    """Native season length (1 = none) and Fourier periods, harmonics and coefficients."""

    native: int
    periods: list[int]
    orders: list[int]
    coef: list[float]

    def design(self, t: np.ndarray) -> np.ndarray:
        """Fourier columns of every period at step indices t."""
        t = np.asarray(t, dtype=np.float64)
        blocks = [fourier_terms(t, p, k) for p, k in zip(self.periods, self.orders, strict=True)]
        return np.column_stack(blocks) if blocks else np.empty((len(t), 0))

    def at(self, t: np.ndarray) -> np.ndarray:
        """The Fourier seasonal part at step indices t (zeros without Fourier periods)."""
        if not self.periods:
            return np.zeros(len(np.asarray(t)))
        return self.design(t) @ np.asarray(self.coef)

    def fitted(self, y: np.ndarray) -> Seasons:
        """Same periods with coefficients estimated on y (steps 0..n-1)."""
        if not self.periods:
            return self
        t = np.arange(len(y), dtype=np.float64)
        design = np.column_stack([np.ones(len(y)), t, self.design(t)])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        return Seasons(self.native, self.periods, self.orders, [float(c) for c in coef[2:]])

    def to_json(self) -> dict:
        """Plain dict for the model state."""
        return {"native": self.native, "periods": self.periods, "orders": self.orders,
                "coef": self.coef}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Seasons:
        """Inverse of to_json."""
        return cls(int(d["native"]), [int(p) for p in d["periods"]],
                   [int(k) for k in d["orders"]], [float(c) for c in d["coef"]])


def candidate_periods(y: np.ndarray, params: Mapping[str, Any]) -> list[int]:
    """Requested period (0 or 1: none), else the periods detected in y."""
    requested = params.get("seasonal_period")
    if requested is not None:
        return [requested] if requested >= 2 else []
    return detect_periods(y, params.get("max_seasonal_period", 500))


def plan_seasons(
    y: np.ndarray, params: Mapping[str, Any], periods: Sequence[int] | None = None
) -> Seasons:
    """Decide native or Fourier seasonality for y and fit the Fourier part."""
    if periods is None:
        periods = candidate_periods(y, params)
    periods = [p for p in periods if 2 <= p <= len(y) // 2]
    if len(periods) == 1 and periods[0] <= MAX_NATIVE_PERIOD:
        return Seasons(periods[0], [], [], [])
    orders = [max(1, min(params.get("fourier_terms") or MAX_HARMONICS, p // 2)) for p in periods]
    return Seasons(1, list(periods), orders, []).fitted(y)
