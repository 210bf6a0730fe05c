"""Request bodies: read a JSON object and check it against its protocol shape before
anything goes to the hub (the shapes are protocol/actions.py's, shared with the hub)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import falcon

from api.errors import api_error, bad_request
from protocol.envelope import DEFAULT_MAX_MESSAGE_SIZE, dumps
from protocol.errors import ProtocolError
from protocol.typed import convert

#: Largest request body read; the hub would refuse a larger message anyway.
MAX_BODY_SIZE = DEFAULT_MAX_MESSAGE_SIZE

S = TypeVar("S")


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


def check_body(body: Mapping[str, Any], shape: type[S]) -> S:
    """Return body as shape, or raise a 400 naming the first key that breaks it."""
    try:
        return convert(body, shape, "body")
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
