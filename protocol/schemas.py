"""Body schema of every message type, checked on receive.

A schema maps each allowed key to a `Field`: the JSON types it may hold, whether it
is required, and an optional check for its contents. Keys outside the schema are
refused, so a typo in a peer shows up as an error rather than as silently ignored data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from protocol.errors import ErrorCode, ProtocolError
from protocol.types import ClientType, MessageType

Check = Callable[[Any], str | None]

MAX_NAME_BYTES = 65535  # SiriDB's limit on a series name
INT64 = 2**63  # JSON integers the wire carries are within [-INT64, INT64)


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a body: allowed JSON types, required or not, and a content check."""

    types: tuple[type, ...]
    required: bool = True
    check: Check | None = None
    nullable: bool = False
    #: The check admits only strings, booleans and 64-bit integers, however deep (see CLOSED).
    closed: bool = False


def _series_name(value: str) -> str | None:
    if not value:
        return "must not be empty"
    # UTF-8 takes at most 4 bytes a character: only long names need encoding to measure.
    if len(value) > MAX_NAME_BYTES // 4 and len(value.encode()) > MAX_NAME_BYTES:
        return f"longer than {MAX_NAME_BYTES} bytes"
    if "\x00" in value:
        return "must not contain NUL"
    return None


def _short_id(value: str) -> str | None:
    if not 0 < len(value) <= 128:
        return "must be 1 to 128 characters"
    return None


def _nonce(value: str) -> str | None:
    # The same rule as protocol.session.check_nonce (which imports this package's envelope).
    if not 32 <= len(value) <= 128 or value.strip("0123456789abcdef"):
        return "must be 32 to 128 lower-case hex digits"
    return None


def _client_type(value: str) -> str | None:
    if value not in ClientType._value2member_map_:
        return "must be one of " + ", ".join(t.value for t in ClientType)
    return None


def _non_negative(value: int | float) -> str | None:
    return "must be >= 0" if value < 0 else None


def _heartbeat_interval(value: int | float) -> str | None:
    # 0 or less would make a peer heartbeat in a busy loop; inf, never notice a silent hub.
    return None if 0 < value <= 86400 else "must be > 0 and <= 86400 seconds"


def _liveness(value: int) -> str | None:
    return None if 1 <= value <= 1000 else "must be 1 to 1000"


def _counts(value: dict) -> str | None:
    counts = value.values()
    # The hot path of the hub: the common, valid case is decided by C-level scans.
    if not counts or (set(map(type, counts)) == {int} and 0 <= min(counts) and max(counts) < INT64):
        return None
    for name, count in value.items():
        if type(count) is not int or not 0 <= count < INT64:
            return f"count of {name!r} must be an integer >= 0 and < 2**63"
    return None


def _series_list(value: list) -> str | None:
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return "items must be objects with a string 'name'"
        if not isinstance(item.get("realtime", False), bool):
            return "'realtime' must be a boolean"
    return None


def _string_list(value: list) -> str | None:
    if not all(isinstance(item, str) for item in value):
        return "items must be strings"
    return None


STR = (str,)
INT = (int,)
NUM = (int, float)
BOOL = (bool,)
OBJ = (dict,)
LIST = (list,)
ANY = (dict, list, str, int, float, bool)

NAME = Field(STR, check=_series_name)
ID = Field(STR, check=_short_id)
ERROR_BODY = {"code": Field(STR), "message": Field(STR)}
JOB_BODY = {
    "job_id": ID,
    "series": NAME,
    "model": Field(STR),
    "model_parameters": Field(OBJ),
    "state": Field(OBJ, nullable=True),
    "settings": Field(OBJ),
    "attempt": Field(INT, check=_non_negative),
    "context": Field(OBJ, required=False),
}

SCHEMAS: dict[MessageType, dict[str, Field]] = {
    MessageType.HANDSHAKE: {
        "client_id": ID,
        "client_type": Field(STR, check=_client_type),
        "version": Field(STR),
        "protocol": Field(INT),
        "token": Field(STR, required=False),
        "capacity": Field(INT, required=False, check=_non_negative),
        "models": Field(LIST, required=False, check=_string_list),
        # A worker's fresh nonce (the session key, protocol/session.py) and the id of its
        # process, the same across its reconnects (so it may replace its own session).
        "nonce": Field(STR, required=False, check=_nonce),
        "instance": Field(STR, required=False, check=_short_id),
    },
    MessageType.HANDSHAKE_OK: {
        "hub_id": Field(STR),
        "nonce": Field(STR, required=False, check=_nonce),  # when the HANDSHAKE had one
        "heartbeat_interval": Field(NUM, check=_heartbeat_interval),
        "liveness": Field(INT, check=_liveness),
    },
    MessageType.HANDSHAKE_FAIL: ERROR_BODY,
    MessageType.UNKNOWN_CLIENT: {"message": Field(STR, required=False)},
    MessageType.HEARTBEAT: {
        "busy": Field(BOOL, required=False),
        "job_id": Field(STR, required=False, nullable=True),
    },
    MessageType.SHUTDOWN: {"reason": Field(STR, required=False)},
    MessageType.ADD_SERIE: {
        "name": NAME,
        "model": Field((str, int), required=False),
        "model_parameters": Field(OBJ, required=False),
        "realtime": Field(BOOL, required=False),
        "anomaly": Field(OBJ, required=False),
    },
    MessageType.REMOVE_SERIE: {"name": NAME},
    MessageType.UPDATE_SERIES: {"series": Field(LIST, check=_series_list)},
    MessageType.LISTENER_ADD_SERIE_COUNT: {"counts": Field(OBJ, check=_counts, closed=True)},
    MessageType.RESPONSE_OK: {"data": Field(ANY, nullable=True)},
    MessageType.ERROR: ERROR_BODY,
    MessageType.API_REQUEST: {
        "action": Field(STR),
        "params": Field(OBJ, required=False),
        "token": Field(STR, required=False),  # required on the hub's api socket
    },
    MessageType.SUBSCRIBE: {
        "series": Field(LIST, required=False, check=_string_list, closed=True),
    },
    MessageType.UNSUBSCRIBE: {},
    MessageType.SERIES_UPDATE: {"name": NAME, "event": Field(STR), "data": Field(OBJ)},
    MessageType.TRAIN_MODEL: JOB_BODY,
    MessageType.FIT_MODEL: JOB_BODY,
    MessageType.FORECAST_SERIE: JOB_BODY,
    MessageType.JOB_ACCEPTED: {"job_id": ID, "worker_id": ID},
    MessageType.JOB_REFUSED: {"job_id": ID, "worker_id": ID, "reason": Field(STR)},
    MessageType.JOB_RESULT: {"job_id": ID, "worker_id": ID, "result": Field(OBJ)},
    MessageType.JOB_FAILED: {
        "job_id": ID,
        "worker_id": ID,
        "error": Field(STR),
        "retry": Field(BOOL, required=False),
    },
}


def _type_ok(value: Any, field: Field) -> bool:
    if value is None:
        return field.nullable
    # bool is an int in Python; JSON keeps them apart, and so do we.
    if isinstance(value, bool):
        return bool in field.types
    return isinstance(value, field.types)


def check_fields(body: Mapping[str, Any], schema: Mapping[str, Field], what: str) -> None:
    """Raise ProtocolError(INVALID) naming the first key of body that breaks schema."""
    for key in body:
        if key not in schema:
            raise ProtocolError(ErrorCode.INVALID, f"{what}: unexpected key {key!r}")
    for key, field in schema.items():
        if key not in body:
            if field.required:
                raise ProtocolError(ErrorCode.INVALID, f"{what}: missing key {key!r}")
            continue
        value = body[key]
        if not _type_ok(value, field):
            names = "/".join(t.__name__ for t in field.types)
            raise ProtocolError(
                ErrorCode.INVALID,
                f"{what}: {key!r} must be {names}, not {type(value).__name__}",
            )
        if field.check is not None and value is not None:
            problem = field.check(value)
            if problem:
                raise ProtocolError(ErrorCode.INVALID, f"{what}: {key!r} {problem}")


def validate_body(msg_type: MessageType, body: Any) -> None:
    """Raise ProtocolError(INVALID) unless body matches msg_type's schema."""
    if not isinstance(body, dict):
        raise ProtocolError(ErrorCode.INVALID, f"{msg_type}: body must be a JSON object")
    check_fields(body, SCHEMAS[msg_type], msg_type.value)


def _is_closed(schema: Mapping[str, Field]) -> bool:
    return all(f.closed or set(f.types) <= {str, bool} for f in schema.values())


#: Types whose body checks leave no number unchecked: a decoder need only look for lone
#: surrogates in them, not for NaN, infinities or integers beyond 64 bits.
CLOSED: frozenset[MessageType] = frozenset(t for t, schema in SCHEMAS.items() if _is_closed(schema))
