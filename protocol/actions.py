"""API actions: each one's params and the data of its RESPONSE_OK, as typed shapes.

The hub checks params against these shapes before an action runs (actors/hub/actions.py),
the REST API checks its request bodies against them before anything goes to the hub,
and the OpenAPI document is built from them (api/openapi.py), so the three cannot drift.
The results are what the hub answers; tests hold the real actions' answers to them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from protocol.alert_actions import ALERT_ACTIONS
from protocol.analysis import Analysis
from protocol.anomaly import AnomalySettings
from protocol.bodies import AddSerie, Empty
from protocol.console import (  # noqa: F401 - the console's shapes, named with the others
    CONSOLE_ACTIONS,
    AnomalyChanged,
    ConsoleClients,
    ConsoleSeries,
    ConsoleSeriesParams,
    JobHistory,
    SetAnomaly,
)
from protocol.forecasts import (  # noqa: F401 - named with the others (shapes.Forecast)
    FORECAST_ACTIONS,
    FORECAST_PAGE,
    Accuracy,
    Anomalies,
    AnomaliesParams,
    AnomalyEvent,
    AnomalyPoint,
    Forecast,
    ForecastParams,
    ForecastPoint,
    Limit,
    Stamp,
)
from protocol.jobs import JobKind
from protocol.names import MAX_NAME_BYTES, Named
from protocol.patterns import PATTERN_ACTIONS
from protocol.rules import Rule, RulesBody, RuleState, SeriesRules, SetRules  # noqa: F401
from protocol.settings import RuntimeSettings
from protocol.typed import UNSET, Meta, Shape, UnsetType

#: POST /series and ADD_SERIE: the model by name ("arima") or legacy id (1, 2); the hub checks it.
AddSeries = AddSerie


#: Series per page of list_series (GET /series) when the request names no limit, and the
#: most one page may hold: the reply of an unfiltered page costs the hub O(page), not
#: O(series watched) (actors/hub/series_pages.py).
SERIES_PAGE = 1000
SERIES_PAGE_MAX = 5000
JobStateName = Literal["none", "queued", "running", "done", "failed"]


class SeriesListParams(Shape):
    """A page of the watched series, sorted by name (code points), filtered.

    `pattern` is a glob (`*`, `?`, `[abc]`, `[!abc]`) matched against the whole name,
    case-sensitively; `state` is the state of the `job` kind's last job, or of any kind's
    when `job` is not given; `after` is the previous page's `next`. Nothing given: the
    first SERIES_PAGE series.
    """

    pattern: Annotated[str, Meta(min_length=1, max_length=MAX_NAME_BYTES)] | UnsetType = UNSET
    state: JobStateName | UnsetType = UNSET
    job: JobKind | UnsetType = UNSET
    model: Annotated[str, Meta(min_length=1, max_length=128)] | UnsetType = UNSET
    after: Annotated[str, Meta(max_length=MAX_NAME_BYTES)] | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=SERIES_PAGE_MAX)] | UnsetType = UNSET

    BOUNDS: ClassVar[dict[str, str]] = {
        "limit": f"1 to {SERIES_PAGE_MAX}", "state": "none, queued, running, done or failed",
        "job": "train, fit or forecast"}


class SetSettings(Shape):
    """The settings to change (all valid, or nothing changes)."""

    settings: dict[str, Any]


class EventLogParams(Shape):
    """How many events, newest first."""

    limit: Limit | UnsetType = UNSET


class QueueJob(Named):
    """Queue a train, fit or forecast job of a series now."""

    job_type: JobKind

    BOUNDS: ClassVar[dict[str, str]] = {"job_type": "train, fit or forecast"}


class JobRequest(Shape):
    """POST /series/{name}/jobs: the job to queue."""

    type: JobKind

    BOUNDS: ClassVar[dict[str, str]] = {"type": "one of train, fit, forecast"}


# --- Results -------------------------------------------------------------------------

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
    # Present once set or made (older answers had none of these keys).
    horizon: int | str | UnsetType = UNSET          # steps, or a span (POST /series)
    rules: list[Rule] | UnsetType = UNSET           # the series' rules
    rule_states: dict[str, RuleState] | UnsetType = UNSET  # each rule's state, and "stale"
    analysis: Analysis | UnsetType = UNSET          # the base analysis of the last training


class SeriesList(Shape):
    """A page of the watched series in short form, sorted by name.

    `total`: the series that match the filters (on every page), or null when a filter
    would need more than 10,000 names looked at to count them (the page may then be
    short, even empty: follow `next`); `next`: the `after` of the next page, null on the
    last one; `limit`: the page size used.
    """

    series: list[SeriesSummary]
    total: int | None
    limit: int
    next: str | None


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


class JobQueued(Shape):
    """The job runs next."""

    name: str
    job_type: JobKind
    jobs: dict[JobKind, SeriesJob]


#: action -> (params, data of its RESPONSE_OK).
ACTIONS: dict[str, tuple[type[Shape], Any]] = {
    "list_series": (SeriesListParams, SeriesList),
    "add_series": (AddSeries, SeriesDetail),
    "get_series": (Named, SeriesDetail),
    "remove_series": (Named, Removed),
    "get_settings": (Empty, RuntimeSettings),
    "set_settings": (SetSettings, RuntimeSettings),
    "siridb_status": (Empty, SiriDBStatus),
    "enodo_status": (Empty, EnodoStatus),
    "event_log": (EventLogParams, EventLog),
    "list_clients": (Empty, Clients),
    **FORECAST_ACTIONS,
    "queue_job": (QueueJob, JobQueued),
    "set_rules": (SetRules, SeriesRules),
    **CONSOLE_ACTIONS,
    **ALERT_ACTIONS,
    **PATTERN_ACTIONS,
}
