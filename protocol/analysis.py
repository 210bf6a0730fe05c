"""The base analysis of a series (made by the worker when it trains, kept by the hub).

GET /series/{name} serves it as `analysis`; the hub converts a series' `horizon` given as a
time span into steps with its `interval`, and watches for the series going stale with it
(actors/hub/staleness.py). Times are seconds (timestamps: seconds since the epoch).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from protocol.typed import Meta, Shape

Text = Annotated[str, Meta(max_length=300)]


class Gaps(Shape, frozen=True):
    """Steps longer than 3 intervals: how many, the points they lack, the longest, the last 5."""

    count: int
    missing: int
    largest: float
    latest: Annotated[list[tuple[float, float]], Meta(max_length=5)]


class Trend(Shape, frozen=True):
    """The linear trend: its slope per second, its change over the span, and its strength
    (1 - var(rest) / var(rest + trend), 0 to 1); up or down from a strength of 0.3."""

    direction: Literal["up", "down", "flat"]
    slope: float
    change: float
    strength: float


class Season(Shape, frozen=True):
    """A seasonal period: in intervals and in seconds, with its autocorrelation (0.3 to 1)."""

    points: float
    period: float
    strength: float


class Analysis(Shape, frozen=True, kw_only=True):
    """What the points read at the last training say about the series.

    interval: the median step; regularity: the share of steps within 10 % of it; noise:
    the robust spread of what trend and seasons leave (noise_ratio: of the whole spread);
    flat_points: equal values at the end (flat from 10); age: seconds from the last point
    to the analysis (stale beyond 10 intervals); health: ok, warning or bad, with reasons.
    With too few points only points, health and reasons are given.
    """

    points: int
    health: Literal["ok", "warning", "bad"]
    reasons: Annotated[list[Text], Meta(max_length=20)]
    first: float | None = None
    last: float | None = None
    span: float | None = None
    interval: Annotated[float, Meta(gt=0)] | None = None
    regularity: float | None = None
    gaps: Gaps | None = None
    trend: Trend | None = None
    seasons: Annotated[list[Season], Meta(max_length=3)] = msgspec.field(default_factory=list)
    level: float | None = None
    spread: float | None = None
    noise: float | None = None
    noise_ratio: float | None = None
    flat_points: int | None = None
    flat: bool | None = None
    age: float | None = None
    stale: bool | None = None
    analysed_at: float | None = None   # wall-clock seconds (the hub's) of the training
