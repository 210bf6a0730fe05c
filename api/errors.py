"""The one place where errors become HTTP: hub codes to statuses, one JSON shape for all.

Every error response, whatever raised it (the hub, a bad body, an unknown route, a
bug), has the body `{"error": {"code": <code>, "message": <text>}}`.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon

from api.hub_client import HubError
from protocol.envelope import dumps

log = logging.getLogger("enodo.api")

#: Hub error code -> HTTP status; every other code is the client's fault: 400.
STATUS_BY_CODE: dict[str, int] = {
    "not_found": 404,
    "conflict": 409,
    "unauthorized": 401,
    "forbidden": 403,
    "timeout": 408,
    "too_large": 413,
    "unavailable": 503,
    "internal": 500,
}
DEFAULT_STATUS = 400

#: Codes for errors raised by the HTTP layer itself (no hub code to carry).
CODE_BY_STATUS: dict[int, str] = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    414: "too_large",
    415: "unsupported_media_type",
    417: "invalid",
    431: "too_large",
    500: "internal",
    501: "not_implemented",
    503: "unavailable",
}

#: Seconds a client should wait before retrying a 503.
RETRY_AFTER = 1


def http_status(code: str) -> int:
    """Return the HTTP status for a protocol error code."""
    return STATUS_BY_CODE.get(code, DEFAULT_STATUS)


def error_body(code: str, message: str) -> dict[str, Any]:
    """Return the JSON body of every error response."""
    return {"error": {"code": code, "message": message}}


def api_error(code: str, message: str) -> falcon.HTTPError:
    """Return an HTTPError carrying a protocol code, with the status the code maps to."""
    status = http_status(code)
    headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
    return falcon.HTTPError(status, title=code, description=message, code=code, headers=headers)


def bad_request(message: str) -> falcon.HTTPError:
    """Return a 400 `invalid` error for a request the API refuses before asking the hub."""
    return api_error("invalid", message)


def serialize_error(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    """Falcon error serializer: write any HTTPError in the one error shape, as JSON."""
    status = exc.status_code
    code = exc.code if isinstance(exc.code, str) else CODE_BY_STATUS.get(status)
    if code is None:
        code = "invalid" if 400 <= status < 500 else "internal"
    message = exc.description
    if not message and status == 405:
        message = f"method {req.method} not allowed here (allowed: {resp.get_header('Allow')})"
    message = message or exc.title or falcon.HTTP_STATUS_CODES.get(status, "error")
    resp.content_type = falcon.MEDIA_JSON
    resp.data = dumps(error_body(code, message))


def _on_hub_error(req: falcon.Request, resp: falcon.Response, exc: HubError, params: dict) -> None:
    if exc.code in ("internal", "unavailable"):
        log.warning("%s %s: hub error %s: %s", req.method, req.path, exc.code, exc.message)
    raise api_error(exc.code, exc.message)


def _on_unexpected(
    req: falcon.Request, resp: falcon.Response, exc: Exception, params: dict
) -> None:
    if isinstance(exc, falcon.HTTPError):
        raise exc
    log.exception("%s %s failed", req.method, req.path)
    raise api_error("internal", "internal error; see the API's log")


def _on_not_found(req: falcon.Request, resp: falcon.Response, exc: Exception, params: dict) -> None:
    raise api_error("not_found", f"no such resource: {req.method} {req.path}")


def install_error_handling(app: falcon.App) -> None:
    """Route every error of app through serialize_error, hub errors by their code."""
    app.set_error_serializer(serialize_error)
    app.add_error_handler(Exception, _on_unexpected)
    app.add_error_handler(HubError, _on_hub_error)
    app.add_error_handler(falcon.HTTPRouteNotFound, _on_not_found)
