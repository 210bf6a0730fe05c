"""Jobs: their kinds, statuses and outputs (one spelling each), and the job a worker gets."""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from protocol.names import SeriesName, name_length_problem
from protocol.settings import RuntimeSettings
from protocol.typed import UNSET, Shape, UnsetType
from protocol.types import MessageType


class JobKind(enum.StrEnum):
    """What a job does; the value is what the API, the store and job results say."""

    TRAIN = "train"
    FIT = "fit"
    FORECAST = "forecast"

    @property
    def message_type(self) -> MessageType:
        """The message type that carries a job of this kind to a worker."""
        return _KIND_TO_TYPE[self]

    @classmethod
    def of(cls, msg_type: MessageType) -> JobKind:
        """The kind of job a message type carries; KeyError for any other type."""
        return _TYPE_TO_KIND[msg_type]


_KIND_TO_TYPE = {
    JobKind.TRAIN: MessageType.TRAIN_MODEL,
    JobKind.FIT: MessageType.FIT_MODEL,
    JobKind.FORECAST: MessageType.FORECAST_SERIE,
}
_TYPE_TO_KIND = {t: k for k, t in _KIND_TO_TYPE.items()}
#: The message types that carry a job.
JOB_TYPES = frozenset(_TYPE_TO_KIND)


class JobStatus(enum.StrEnum):
    """Where a job of the hub's queue is."""

    QUEUED = "queued"          # waiting for a worker
    DISPATCHED = "dispatched"  # sent, not yet accepted
    RUNNING = "running"        # a worker accepted it


class SeriesJobState(enum.StrEnum):
    """The last job of one kind of a series, as its detail shows it."""

    NONE = "none"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class OutputKind(enum.StrEnum):
    """What the hub keeps per series from job results (the store's output kinds)."""

    FORECAST = "forecast"
    ANOMALIES = "anomalies"
    ANOMALY_EVENTS = "anomaly_events"
    DETECTOR = "detector"
    ACCURACY = "accuracy"
    ANALYSIS = "analysis"


_DEFAULTS = RuntimeSettings()


class JobSettings(Shape, forbid_unknown_fields=False):
    """The runtime settings a job needs, as the hub sends them.

    The worker adds no defaults of its own: a key a job leaves out (a test, an older hub)
    takes the runtime settings table's default, the one place defaults are written.
    """

    horizon: int = _DEFAULTS.horizon
    interval_level: float = _DEFAULTS.interval_level
    max_points: int = _DEFAULTS.max_points
    max_job_duration: float = _DEFAULTS.max_job_duration
    anomaly_sensitivity: float = _DEFAULTS.anomaly_sensitivity
    anomaly: dict[str, Any] | UnsetType = UNSET  # FORECAST_SERIE: the series' AnomalySettings

    @classmethod
    def of(cls, raw: Any) -> JobSettings:
        """A job's settings; ValueError naming the key when the hub sent a wrong one."""
        try:
            return msgspec.convert(raw or {}, cls)
        except msgspec.ValidationError as exc:
            raise ValueError(f"job settings: {exc}") from None


#: The runtime settings the hub copies into every job (the series' anomaly settings aside).
JOB_SETTINGS: tuple[str, ...] = tuple(k for k in JobSettings.__struct_fields__ if k != "anomaly")


class JobContext(Shape):
    """What a job carries besides the model: the last forecast and detector state (a
    FORECAST_SERIE), the series' rules and their states (any job, when it has rules)."""

    previous_forecast: dict[str, Any] | None | UnsetType = UNSET
    detector: dict[str, Any] | None | UnsetType = UNSET
    rules: list[dict[str, Any]] | UnsetType = UNSET       # the series' rules (protocol/rules.py)
    rule_states: dict[str, Any] | UnsetType = UNSET       # their states: the worker goes on


class JobBody(Shape):
    """TRAIN_MODEL, FIT_MODEL, FORECAST_SERIE: one job of one series."""

    job_id: str
    series: SeriesName
    model: str
    model_parameters: dict[str, Any]
    state: dict[str, Any] | None
    settings: dict[str, Any]
    attempt: int
    context: dict[str, Any] | UnsetType = UNSET

    def __post_init__(self) -> None:
        if not 0 < len(self.job_id) <= 128:
            raise ValueError("'job_id' must be 1 to 128 characters")
        if self.attempt < 0:
            raise ValueError("'attempt' must be >= 0")
        problem = name_length_problem(self.series)
        if problem:
            raise ValueError(f"'series' {problem}")


class Result(Shape, forbid_unknown_fields=False, kw_only=True):
    """What every job result may say (results may carry more: newer workers add keys)."""

    kind: JobKind | UnsetType = UNSET
    count: int | None | UnsetType = UNSET        # SiriDB's point count of the series
    points: int | UnsetType = UNSET              # points the job read
    duration: float | UnsetType = UNSET          # seconds the job took


class ModelResult(Result, forbid_unknown_fields=False):
    """TRAIN_MODEL and FIT_MODEL: the model's new state (and, trained, its accuracy)."""

    state: dict[str, Any]
    last_ts: int | None | UnsetType = UNSET
    accuracy: dict[str, Any] | UnsetType = UNSET
    analysis: dict[str, Any] | UnsetType = UNSET  # TRAIN_MODEL: protocol/analysis.py
    rules: dict[str, dict[str, Any]] | UnsetType = UNSET  # rule id -> protocol.rules.RuleState


class ForecastColumns(Shape, forbid_unknown_fields=False):
    """A forecast: integer timestamps, then mean, lower and upper (null where none)."""

    timestamps: list[int]
    mean: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    level: float | None | UnsetType = UNSET

    def __post_init__(self) -> None:
        lengths = {len(self.timestamps), len(self.mean), len(self.lower), len(self.upper)}
        if len(lengths) != 1:
            raise ValueError("forecast lists differ in length")


class JudgedPoint(Shape, forbid_unknown_fields=False):
    """An anomalous point as a worker reports it (the detector's record has more keys)."""

    timestamp: int


class ForecastResult(Result, forbid_unknown_fields=False):
    """FORECAST_SERIE: the forecast (null at a cold start) and what the detector found."""

    forecast: ForecastColumns | None
    anomalies: list[JudgedPoint] | UnsetType = UNSET
    summary: dict[str, Any] | UnsetType = UNSET
    written: list[str] | UnsetType = UNSET
    cold_start: bool | UnsetType = UNSET
    events: list[dict[str, Any]] | UnsetType = UNSET
    detector: dict[str, Any] | None | UnsetType = UNSET
    rules: dict[str, dict[str, Any]] | UnsetType = UNSET  # rule id -> protocol.rules.RuleState


#: The result shape of each job kind.
RESULTS: dict[JobKind, type[Result]] = {
    JobKind.TRAIN: ModelResult, JobKind.FIT: ModelResult, JobKind.FORECAST: ForecastResult,
}


def check_result(kind: JobKind, result: Any) -> Result:
    """result as its kind's shape; ValueError naming the key when it cannot be kept."""
    try:
        return msgspec.convert(result, RESULTS[kind])
    except msgspec.ValidationError as exc:
        raise ValueError(f"result: {exc}") from None
