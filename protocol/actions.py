"""API actions: each one's params and the data of its RESPONSE_OK, as typed shapes.

The hub checks params against these shapes before an action runs (actors/hub/actions.py),
the REST API checks its request bodies against them before anything goes to the hub,
and the OpenAPI document is built from them (api/openapi.py), so the three cannot drift.
The results are what the hub answers; tests hold the real actions' answers to them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from protocol.bodies import AddSerie, Empty
from protocol.jobs import JobKind
from protocol.names import SeriesName, name_length_problem
from protocol.results import (  # noqa: F401 - each action's data, named beside its params
    Accuracy,
    Anomalies,
    AnomalyChanged,
    AnomalyEvent,
    AnomalyPoint,
    Client,
    Clients,
    ConsoleClients,
    ConsoleSeries,
    EnodoStatus,
    Event,
    EventLog,
    Forecast,
    ForecastPoint,
    JobHistory,
    JobQueued,
    Removed,
    SeriesDetail,
    SeriesJob,
    SeriesList,
    SeriesSummary,
    SiriDBStatus,
)
from protocol.settings import RuntimeSettings
from protocol.typed import UNSET, Meta, Shape, UnsetType

Limit = Annotated[int, Meta(ge=1, le=1000)]


class Named(Shape):
    """Params naming one series."""

    name: SeriesName

    def __post_init__(self) -> None:
        problem = name_length_problem(self.name)
        if problem:
            raise ValueError(f"'name' {problem}")


#: POST /series and ADD_SERIE: the model by name ("arima") or legacy id (1, 2); the hub checks it.
AddSeries = AddSerie


class SetSettings(Shape):
    """The settings to change (all valid, or nothing changes)."""

    settings: dict[str, Any]


class EventLogParams(Shape):
    """How many events, newest first."""

    limit: Limit | UnsetType = UNSET


#: Points per page of get_forecast: about 100 KB of JSON, whatever the horizon.
FORECAST_PAGE = 1000


class ForecastParams(Named):
    """A series and which page of its forecast."""

    offset: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    limit: Limit | UnsetType = UNSET


class AnomaliesParams(Named):
    """A series and how many of its newest anomalies and events."""

    limit: Limit | UnsetType = UNSET


class QueueJob(Named):
    """Queue a train, fit or forecast job of a series now."""

    job_type: JobKind

    BOUNDS: ClassVar[dict[str, str]] = {"job_type": "train, fit or forecast"}


class ConsoleSeriesParams(Shape):
    """One page of the console's series list: names containing `filter`, sorted by name."""

    filter: str | UnsetType = UNSET
    desc: bool | UnsetType = UNSET
    offset: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=200)] | UnsetType = UNSET

    BOUNDS: ClassVar[dict[str, str]] = {"offset": ">= 0", "limit": "1 to 200"}


class SetAnomaly(Named):
    """Change some of a series' anomaly settings (the others kept)."""

    anomaly: dict[str, Any]


class JobRequest(Shape):
    """POST /series/{name}/jobs: the job to queue."""

    type: JobKind

    BOUNDS: ClassVar[dict[str, str]] = {"type": "one of train, fit, forecast"}


#: action -> (params, data of its RESPONSE_OK).
ACTIONS: dict[str, tuple[type[Shape], Any]] = {
    "list_series": (Empty, SeriesList),
    "add_series": (AddSeries, SeriesDetail),
    "get_series": (Named, SeriesDetail),
    "remove_series": (Named, Removed),
    "get_settings": (Empty, RuntimeSettings),
    "set_settings": (SetSettings, RuntimeSettings),
    "siridb_status": (Empty, SiriDBStatus),
    "enodo_status": (Empty, EnodoStatus),
    "event_log": (EventLogParams, EventLog),
    "list_clients": (Empty, Clients),
    "get_forecast": (ForecastParams, Forecast),
    "get_anomalies": (AnomaliesParams, Anomalies),
    "get_accuracy": (Named, Accuracy),
    "queue_job": (QueueJob, JobQueued),
    "console_series": (ConsoleSeriesParams, ConsoleSeries),
    "set_anomaly": (SetAnomaly, AnomalyChanged),
    "console_clients": (Empty, ConsoleClients),
    "job_history": (Named, JobHistory),
}
