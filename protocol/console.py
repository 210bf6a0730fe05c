"""The operator console's actions (api/console/): their params and the data they answer.

Kept apart from protocol/actions.py (the REST API's actions), whose table takes these in.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from protocol.anomaly import AnomalySettings
from protocol.bodies import Empty
from protocol.jobs import JobKind
from protocol.names import Named
from protocol.typed import UNSET, Meta, Shape, UnsetType


class ConsoleSeriesParams(Shape):
    """One page of the console's series list: names containing `filter`, sorted by name;
    `state`, `job` and `model` filter as list_series's do."""

    filter: str | UnsetType = UNSET
    state: Literal["none", "queued", "running", "done", "failed"] | UnsetType = UNSET
    job: JobKind | UnsetType = UNSET
    model: Annotated[str, Meta(min_length=1, max_length=128)] | UnsetType = UNSET
    desc: bool | UnsetType = UNSET
    offset: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=200)] | UnsetType = UNSET

    BOUNDS: ClassVar[dict[str, str]] = {"offset": ">= 0", "limit": "1 to 200"}


class SetAnomaly(Named):
    """Change some of a series' anomaly settings (the others kept)."""

    anomaly: dict[str, Any]


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


#: action -> (params, data of its RESPONSE_OK), merged into protocol.actions.ACTIONS.
CONSOLE_ACTIONS: dict[str, tuple[type[Shape], Any]] = {
    "console_series": (ConsoleSeriesParams, ConsoleSeries),
    "set_anomaly": (SetAnomaly, AnomalyChanged),
    "console_clients": (Empty, ConsoleClients),
    "job_history": (Named, JobHistory),
}
