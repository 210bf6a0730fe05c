"""What each API action answers: the data of its RESPONSE_OK, as typed shapes.

protocol/actions.py pairs each action with its params and one of these; the OpenAPI
document publishes them, and the API tests hold the hub's real answers to them.
"""

from __future__ import annotations

from typing import Any, Literal

from protocol.anomaly import AnomalySettings
from protocol.jobs import JobKind
from protocol.typed import UNSET, Shape, UnsetType

Number = float | None
Stamp = float | None  # wall-clock seconds, or None: never


class SeriesJob(Shape):
    """The last job of one kind of a series."""

    state: Literal["none", "queued", "running", "done", "failed"]
    error: str | None
    updated_at: Stamp
    worker: str | None
    attempt: int


class SeriesSummary(Shape):
    """A series in lists."""

    name: str
    model: str
    realtime: bool
    points: int
    jobs: dict[JobKind, str]


class SeriesDetail(Shape):
    """Everything worth showing about a series."""

    name: str
    model: str
    realtime: bool
    points: int
    jobs: dict[JobKind, SeriesJob]
    model_parameters: dict[str, Any]
    anomaly: AnomalySettings
    created_at: float
    points_counted: int
    points_siridb: int | None
    drift: int
    new_points_since_fit: int
    new_points_since_train: int
    trained_at: Stamp
    forecast_at: Stamp
    last_forecast: dict[str, Any] | None
    in_siridb: bool | None
    appeared_at: Stamp            # when SiriDB was first seen to have it
    siridb_note: str | None       # what to tell a user about it in SiriDB


class SeriesList(Shape):
    """Every watched series in short form."""

    series: list[SeriesSummary]


class Removed(Shape):
    """The series no longer watched."""

    name: str


class SiriDBStatus(Shape):
    """The hub's SiriDB connection."""

    status: Literal["not_configured", "connecting", "connected", "failing"]
    configured: bool
    connected: bool
    error: str | None
    host: str | None
    port: int | None
    database: str | None


class EnodoStatus(Shape):
    """The hub's health in one object."""

    version: str
    protocol: int
    hub_id: str
    uptime: float
    series: int
    peers: dict[str, Any]
    jobs: dict[str, Any]


class Event(Shape):
    """One entry of the hub's event log."""

    id: int
    ts: float
    level: str
    kind: str
    message: str
    series: str | None


class EventLog(Shape):
    """The newest events first."""

    events: list[Event]


class Client(Shape):
    """A client the hub has seen."""

    client_id: str
    client_type: str
    version: str
    online: bool
    last_seen: float
    first_seen: float


class Clients(Shape):
    """Every client the hub has seen, online or not."""

    clients: list[Client]


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


class JobQueued(Shape):
    """The job runs next."""

    name: str
    job_type: JobKind
    jobs: dict[JobKind, SeriesJob]


class ConsoleSeries(Shape):
    """A page of the console's series list (each row a summary with what the list shows)."""

    total: int
    offset: int
    limit: int
    series: list[dict[str, Any]]


class AnomalyChanged(Shape):
    """A series' anomaly settings after a change."""

    name: str
    anomaly: AnomalySettings


class ConsoleClients(Shape):
    """list_clients with what each online worker is doing."""

    clients: list[dict[str, Any]]


class JobHistory(Shape):
    """A series' last finished jobs, newest first."""

    name: str
    jobs: list[dict[str, Any]]
