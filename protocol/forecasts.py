"""The shapes of what users of forecasts read: a forecast's pages, anomalies and events, accuracy.

Actions get_forecast, get_anomalies and get_accuracy (GET /series/{name}/forecast,
/anomalies, /accuracy); merged into protocol.actions.ACTIONS, where the others are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from protocol.anomaly import AnomalySettings
from protocol.names import Named
from protocol.typed import UNSET, Meta, Shape, UnsetType

Limit = Annotated[int, Meta(ge=1, le=1000)]
Number = float | None
Stamp = float | None  # wall-clock seconds, or None: never


#: Points per page of get_forecast: about 100 KB of JSON, whatever the horizon.
FORECAST_PAGE = 1000


class ForecastParams(Named):
    """A series and which page of its forecast."""

    offset: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    limit: Limit | UnsetType = UNSET


class AnomaliesParams(Named):
    """A series and how many of its newest anomalies and events."""

    limit: Limit | UnsetType = UNSET


class ForecastPoint(Shape):
    """One step of a forecast (a bound is null where the model gave none)."""

    timestamp: int
    mean: Number
    lower: Number
    upper: Number


class Forecast(Shape):
    """A page of the last forecast of a series (none yet: no points, total 0)."""

    name: str
    forecast_at: Stamp
    level: Number
    total: int
    offset: int
    limit: int
    next_offset: int | None
    points: list[ForecastPoint]


class AnomalyPoint(Shape):
    """An anomalous point, its interval and scores (> 1: outside)."""

    timestamp: int
    value: float
    expected: float
    lower: float
    upper: float
    score: float
    point_score: float | UnsetType = UNSET
    mean_score: float | UnsetType = UNSET
    view: str | None | UnsetType = UNSET          # the view that decided
    probability: float | UnsetType = UNSET        # the tail probability it implies
    baseline: float | UnsetType = UNSET           # what the seasonal baseline expected
    surprise: dict[str, float] | UnsetType = UNSET  # -log10(p) of each view


class AnomalyEvent(Shape):
    """A run of anomalous points: open until event_gap normal points close it."""

    id: int
    start: int
    end: int
    peak: float
    peak_ts: int
    points: int
    state: Literal["open", "closed"]


class Anomalies(Shape):
    """The newest anomalies and events of a series, oldest first."""

    name: str
    settings: AnomalySettings
    anomalies: list[AnomalyPoint]
    events: list[AnomalyEvent]


class Accuracy(Shape, forbid_unknown_fields=False):
    """Backtest accuracy of the series' model and of the seasonal-naive baseline."""

    name: str
    measured_at: Stamp
    model: dict[str, Any] | None | UnsetType = UNSET
    baseline: dict[str, Any] | None | UnsetType = UNSET
    horizon: int | UnsetType = UNSET
    origins: int | UnsetType = UNSET
    level: float | UnsetType = UNSET
    period: int | UnsetType = UNSET
    error: str | UnsetType = UNSET


#: action -> (params, data of its RESPONSE_OK), merged into protocol.actions.ACTIONS.
FORECAST_ACTIONS: dict[str, tuple[type[Shape], Any]] = {
    "get_forecast": (ForecastParams, Forecast),
    "get_anomalies": (AnomaliesParams, Anomalies),
    "get_accuracy": (Named, Accuracy),
}
