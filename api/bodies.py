"""Request bodies: read a JSON object and check its shape before anything goes to the hub."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import falcon

from actors.common.siridb_queries import NEW_SERIES_NAME
from api.errors import api_error, bad_request
from protocol.envelope import DEFAULT_MAX_MESSAGE_SIZE, dumps
from protocol.errors import ProtocolError
from protocol.schemas import BOOL, OBJ, STR, Field, check_fields

#: Largest request body read; the hub would refuse a larger message anyway.
MAX_BODY_SIZE = DEFAULT_MAX_MESSAGE_SIZE

JOB_TYPES = ("train", "fit", "forecast")


def _job_type(value: str) -> str | None:
    return None if value in JOB_TYPES else "must be one of " + ", ".join(JOB_TYPES)


#: POST /series: the model by name ("arima") or legacy numeric id (1, 2); the hub checks it.
SERIES_BODY: dict[str, Field] = {
    "name": NEW_SERIES_NAME,
    "model": Field((str, int), required=False),
    "model_parameters": Field(OBJ, required=False),
    "realtime": Field(BOOL, required=False),
    "anomaly": Field(OBJ, required=False),
}

#: POST /series/{name}/jobs.
JOB_BODY: dict[str, Field] = {"type": Field(STR, check=_job_type)}


def read_object(req: falcon.Request) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise a 400/413/415 HTTPError."""
    length = req.content_length
    if length is not None and length > MAX_BODY_SIZE:
        raise api_error("too_large", f"request body over {MAX_BODY_SIZE} bytes")
    content_type = req.content_type
    if content_type is not None and not _is_json(content_type):
        raise falcon.HTTPUnsupportedMediaType(
            description=f"send the body as JSON (Content-Type: application/json), "
            f"not {content_type.split(';')[0]}"
        )
    body = req.get_media()
    if not isinstance(body, dict):
        raise bad_request(f"body must be a JSON object, not {_json_type(body)}")
    try:
        dumps(body)  # JSON allows "\ud800"; UTF-8, the wire and SiriDB do not
    except (UnicodeEncodeError, ValueError, OverflowError) as exc:
        raise bad_request(f"body cannot be passed on: {exc}") from None
    return body


def check_body(body: Mapping[str, Any], schema: Mapping[str, Field]) -> None:
    """Raise a 400 naming the first key of body that breaks schema."""
    try:
        check_fields(body, schema, "body")
    except ProtocolError as exc:
        raise bad_request(exc.message) from None


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == falcon.MEDIA_JSON


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
