"""The body of every message type as a typed shape; the codec decodes each body into its type.

Optional keys default to UNSET: a body keeps exactly the keys its sender wrote, so the
JSON on the wire is what it was when bodies were plain objects. Checks msgspec cannot
state (a name's UTF-8 length) are in __post_init__, which msgspec runs while decoding.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from protocol.jobs import JobBody
from protocol.names import SeriesName, name_length_problem
from protocol.typed import UNSET, Int64, Meta, Shape, UnsetType
from protocol.types import ClientType, MessageType

ShortId = Annotated[str, Meta(min_length=1, max_length=128)]
#: A worker's fresh nonce, from which the session key is made (protocol/session.py).
Nonce = Annotated[str, Meta(min_length=32, max_length=128, pattern="^[0-9a-f]*$")]
NONCE_RULE = "32 to 128 lower-case hex digits"
NonNegative = Annotated[int, Meta(ge=0, le=2**63 - 1)]
Count = Annotated[int, Meta(ge=0, le=2**63 - 1)]
#: Any JSON value (its numbers and strings are checked by the codec, see envelope.py).
JSON = Any


def _check_name(value: str, key: str = "name") -> None:
    problem = name_length_problem(value)
    if problem:
        raise ValueError(f"{key!r} {problem}")


class Handshake(Shape):
    """A peer introduces itself (and, a worker, its capacity and models)."""

    client_id: ShortId
    client_type: ClientType
    version: str
    protocol: Int64
    token: str | UnsetType = UNSET
    capacity: NonNegative | UnsetType = UNSET
    models: list[str] | UnsetType = UNSET
    # A worker's fresh nonce (the session key, protocol/session.py) and the id of its
    # process, the same across its reconnects (so it may replace its own session).
    nonce: Nonce | UnsetType = UNSET
    instance: ShortId | UnsetType = UNSET

    BOUNDS: ClassVar[dict[str, str]] = {"nonce": NONCE_RULE, "client_id": "1 to 128 characters",
                                        "instance": "1 to 128 characters"}


class HandshakeOk(Shape, kw_only=True):
    """The hub admits a peer and says how often to beat."""

    hub_id: str
    nonce: Nonce | UnsetType = UNSET  # when the HANDSHAKE had one
    # 0 or less would make a peer beat in a busy loop; inf, never notice a silent hub.
    heartbeat_interval: Annotated[float, Meta(gt=0, le=86400)]
    liveness: Annotated[int, Meta(ge=1, le=1000)]

    BOUNDS: ClassVar[dict[str, str]] = {"nonce": NONCE_RULE}


class ErrorBody(Shape):
    """ERROR and HANDSHAKE_FAIL: a stable code and a message for people."""

    code: str
    message: str


class UnknownClient(Shape):
    """The hub does not know the sender: handshake again."""

    message: str | UnsetType = UNSET


class Heartbeat(Shape):
    """Alive; a worker says whether it is busy and with what."""

    busy: bool | UnsetType = UNSET
    job_id: str | None | UnsetType = UNSET


class Shutdown(Shape):
    """The sender is going away."""

    reason: str | UnsetType = UNSET


class AddSerie(Shape):
    """A client adds a series; the hub tells a listener to watch one."""

    name: SeriesName
    model: str | int | UnsetType = UNSET
    model_parameters: dict[str, Any] | UnsetType = UNSET
    realtime: bool | UnsetType = UNSET
    anomaly: dict[str, Any] | UnsetType = UNSET
    # Checked by the hub (protocol/rules.py parse_rules, span_seconds), which words the errors.
    rules: list[dict[str, Any]] | UnsetType = UNSET
    horizon: int | str | UnsetType = UNSET  # steps, or a span converted with the interval

    def __post_init__(self) -> None:
        _check_name(self.name)


class RemoveSerie(Shape):
    """Stop watching a series."""

    name: SeriesName

    def __post_init__(self) -> None:
        _check_name(self.name)


class WatchEntry(Shape):
    """One series of a listener's watch list."""

    name: str
    realtime: bool | UnsetType = UNSET


class UpdateSeries(Shape):
    """The full watch list, sent to a listener on its handshake."""

    series: list[WatchEntry]

    @staticmethod
    def reword(value: Any) -> str | None:
        """The complaint about a refused watch list, as the protocol words it."""
        for item in value.get("series", []) if isinstance(value, dict) else []:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                return "'series' items must be objects with a string 'name'"
            if not isinstance(item.get("realtime", False), bool):
                return "'series' 'realtime' must be a boolean"
        return None


class Counts(Shape):
    """New points per watched series, since the listener's last report."""

    counts: dict[str, Count]

    @staticmethod
    def reword(value: Any) -> str | None:
        """The complaint about refused counts: it names the series whose count is wrong."""
        counts = value.get("counts") if isinstance(value, dict) else None
        for name, count in counts.items() if isinstance(counts, dict) else ():
            if type(count) is not int or not 0 <= count < 2**63:
                return f"'counts' count of {name!r} must be an integer >= 0 and < 2**63"
        return None


class UpdatePatterns(Shape):
    """The hub's patterns (SiriDB regexes, protocol/patterns.py), sent to a listener on its
    handshake and on each change: it reports unwatched names of the tee that match one."""

    patterns: list[Annotated[str, Meta(min_length=3, max_length=4096)]]


class SeriesSeen(Shape):
    """A listener saw these unwatched series in the tee, each matching one of the patterns."""

    names: list[SeriesName]

    def __post_init__(self) -> None:
        for name in self.names:
            _check_name(name, "names")


class ResponseOk(Shape):
    """The answer to a request: its data."""

    data: JSON


class ApiRequest(Shape):
    """Run an API action (protocol/actions.py says each one's params and data)."""

    action: str
    params: dict[str, Any] | UnsetType = UNSET
    token: str | UnsetType = UNSET  # required on the hub's api socket


class Subscribe(Shape):
    """A client asks for SERIES_UPDATE pushes (all series, or the named ones)."""

    series: list[str] | UnsetType = UNSET


class Empty(Shape):
    """A body with no keys."""


class SeriesUpdate(Shape):
    """The hub tells a subscribed client what changed on a series."""

    name: SeriesName
    event: str
    data: dict[str, Any]

    def __post_init__(self) -> None:
        _check_name(self.name)


class JobAccepted(Shape):
    """A worker took a job."""

    job_id: ShortId
    worker_id: ShortId


class JobRefused(Shape):
    """A worker hands a job straight back (busy)."""

    job_id: ShortId
    worker_id: ShortId
    reason: str


class JobResult(Shape):
    """A job's result (see protocol/jobs.py for what each kind returns)."""

    job_id: ShortId
    worker_id: ShortId
    result: dict[str, Any]


class JobFailed(Shape):
    """A job failed; retry says whether another attempt may succeed."""

    job_id: ShortId
    worker_id: ShortId
    error: str
    retry: bool | UnsetType = UNSET


BODIES: dict[MessageType, type[Shape]] = {
    MessageType.HANDSHAKE: Handshake,
    MessageType.HANDSHAKE_OK: HandshakeOk,
    MessageType.HANDSHAKE_FAIL: ErrorBody,
    MessageType.UNKNOWN_CLIENT: UnknownClient,
    MessageType.HEARTBEAT: Heartbeat,
    MessageType.SHUTDOWN: Shutdown,
    MessageType.ADD_SERIE: AddSerie,
    MessageType.REMOVE_SERIE: RemoveSerie,
    MessageType.UPDATE_SERIES: UpdateSeries,
    MessageType.LISTENER_ADD_SERIE_COUNT: Counts,
    MessageType.RESPONSE_OK: ResponseOk,
    MessageType.ERROR: ErrorBody,
    MessageType.API_REQUEST: ApiRequest,
    MessageType.SUBSCRIBE: Subscribe,
    MessageType.UNSUBSCRIBE: Empty,
    MessageType.SERIES_UPDATE: SeriesUpdate,
    MessageType.TRAIN_MODEL: JobBody,
    MessageType.FIT_MODEL: JobBody,
    MessageType.FORECAST_SERIE: JobBody,
    MessageType.JOB_ACCEPTED: JobAccepted,
    MessageType.JOB_REFUSED: JobRefused,
    MessageType.JOB_RESULT: JobResult,
    MessageType.JOB_FAILED: JobFailed,
    MessageType.UPDATE_PATTERNS: UpdatePatterns,
    MessageType.SERIES_SEEN: SeriesSeen,
}

#: Types whose every value is a typed string, boolean or bounded integer: msgspec's checks
#: reach every number in them, so the codec need not look for NaN or 64-bit overflow.
CLOSED: frozenset[MessageType] = frozenset({
    MessageType.HANDSHAKE_FAIL, MessageType.UNKNOWN_CLIENT, MessageType.HEARTBEAT,
    MessageType.SHUTDOWN, MessageType.REMOVE_SERIE, MessageType.UPDATE_SERIES,
    MessageType.LISTENER_ADD_SERIE_COUNT, MessageType.ERROR, MessageType.SUBSCRIBE,
    MessageType.UNSUBSCRIBE, MessageType.JOB_ACCEPTED, MessageType.JOB_REFUSED,
    MessageType.JOB_FAILED, MessageType.UPDATE_PATTERNS, MessageType.SERIES_SEEN,
})
