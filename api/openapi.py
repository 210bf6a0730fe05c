"""The REST API described as OpenAPI 3.0, served at GET /openapi.json.

The paths come from the app's own router (every route and method it serves), the words
from OPERATIONS below, keyed by method and path; a route added without an entry still
appears (with the generic answers) and the API tests fail until it is described. The
settings schema is built from the hub's settings table, so it cannot fall behind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import falcon
import msgspec

from actors.common.siridb_queries import MAX_PLAIN_NAME_BYTES
from protocol.names import MAX_NAME_BYTES
from protocol.settings import KEYS, RuntimeSettings

VERSION = "3.0.3"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
JSON = "application/json"

OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
ERROR = {"$ref": "#/components/schemas/Error"}
NAME_PARAM = {
    "name": "name", "in": "path", "required": True,
    "description": "The series name as ONE path segment, percent-encoded like "
                   "encodeURIComponent (`a/b` is `a%2Fb`).",
    "schema": {"type": "string", "minLength": 1},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    """Error responses: the given statuses, plus 500 and 503 that any request may meet."""
    what = {
        400: "invalid request (bad body, name or parameter), or refused by the hub",
        401: "bearer token missing or wrong (when the API requires one)",
        404: "no such series or resource", 405: "method not allowed on this path",
        409: "conflict (the series exists; no model yet)", 413: "body too large",
        415: "body is not application/json", 500: "internal error (see the logs)",
        503: "the hub did not answer in time (Retry-After: 1)",
    }
    return {str(s): _json(ERROR, what[s]) for s in sorted({*statuses, 500, 503})}


SERIES_SUMMARY = {
    "type": "object", "required": ["name"], "additionalProperties": True,
    "properties": {"name": {"type": "string"}, "model": {"type": "string"}},
}
SERIES_DETAIL = {
    "type": "object", "required": ["name", "model"], "additionalProperties": True,
    "properties": {
        "name": {"type": "string"}, "model": {"type": "string"},
        "model_parameters": OBJECT, "realtime": {"type": "boolean"},
        "points_counted": {"type": "integer"}, "jobs": OBJECT,
    },
}
SERIES_BODY = {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1,
                 "description": f"any text without NUL, at most {MAX_NAME_BYTES} UTF-8 bytes, "
                                "short enough for Enodo's SiriDB queries about it (plain "
                                f"ASCII: {MAX_PLAIN_NAME_BYTES} bytes; a quote counts twice)"},
        "model": {"oneOf": [{"type": "string"}, {"type": "integer"}],
                  "description": "a model name (arima, prophet, ...) or legacy id (1, 2)"},
        "model_parameters": OBJECT,
        "realtime": {"type": "boolean"},
    },
}
JOB_BODY = {
    "type": "object", "required": ["type"], "additionalProperties": False,
    "properties": {"type": {"type": "string", "enum": ["train", "fit", "forecast"]}},
}
NUMBER = {"type": "number", "nullable": True}
FORECAST = {
    "type": "object", "required": ["name", "points"], "additionalProperties": True,
    "properties": {
        "name": {"type": "string"}, "forecast_at": NUMBER, "level": NUMBER,
        "points": {"type": "array", "items": {
            "type": "object", "additionalProperties": True,
            "properties": {"timestamp": {"type": "integer"}, "mean": NUMBER,
                           "lower": NUMBER, "upper": NUMBER},
        }},
    },
}
ANOMALIES = {
    "type": "object", "required": ["name", "anomalies"], "additionalProperties": True,
    "properties": {"name": {"type": "string"},
                   "anomalies": {"type": "array", "items": OBJECT}},
}
def settings_schema(partial: bool) -> dict[str, Any]:
    """The settings object (every key when read; any non-empty subset when changed)."""
    (_, components) = msgspec.json.schema_components([RuntimeSettings])
    schema = dict(components["RuntimeSettings"])
    schema.pop("title", None)
    schema["additionalProperties"] = False
    schema.pop("required", None)
    if partial:
        schema["minProperties"] = 1
    else:
        schema["required"] = sorted(KEYS)
    return schema


def _op(summary: str, ok: tuple[str, dict[str, Any], str], errors: tuple[int, ...] = (),
        body: dict[str, Any] | None = None, params: tuple[dict[str, Any], ...] = (),
        headers: dict[str, Any] | None = None) -> dict[str, Any]:
    status, schema, description = ok
    success = _json(schema, description)
    if headers:
        success["headers"] = headers
    operation: dict[str, Any] = {
        "summary": summary, "parameters": list(params),
        "responses": {status: success, **_errors(*errors)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return operation


_SERIES = "/series/{name}"
#: (method, path) -> operation; the words of the document.
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/series"): _op("List the watched series", (
        "200", {"type": "object", "required": ["series"], "properties": {
            "series": {"type": "array", "items": SERIES_SUMMARY}}}, "the series")),
    ("POST", "/series"): _op(
        "Watch a series", ("201", SERIES_DETAIL, "the series added"), (400, 409, 413, 415),
        body=SERIES_BODY,
        headers={"Location": {"schema": {"type": "string"},
                              "description": "the series' path, already encoded"}}),
    ("GET", _SERIES): _op("One series in full", ("200", SERIES_DETAIL, "the series"),
                          (400, 404), params=(NAME_PARAM,)),
    ("DELETE", _SERIES): _op(
        "Stop watching a series",
        ("200", {"type": "object", "required": ["name"],
                 "properties": {"name": {"type": "string"}}}, "the series removed"),
        (400, 404), params=(NAME_PARAM,)),
    ("GET", _SERIES + "/forecast"): _op(
        "The latest forecast (no forecast yet: empty points)",
        ("200", FORECAST, "the forecast"), (400, 404), params=(NAME_PARAM,)),
    ("GET", _SERIES + "/anomalies"): _op(
        "The anomalies found, oldest first", ("200", ANOMALIES, "the anomalies"), (400, 404),
        params=(NAME_PARAM,)),
    ("GET", _SERIES + "/accuracy"): _op(
        "Backtest accuracy of the model and of the seasonal-naive baseline",
        ("200", OBJECT, "the accuracy report"), (400, 404), params=(NAME_PARAM,)),
    ("POST", _SERIES + "/jobs"): _op(
        "Queue a train, fit or forecast job now",
        ("202", {"type": "object", "required": ["name", "job_type"],
                 "additionalProperties": True,
                 "properties": {"name": {"type": "string"}, "job_type": {"type": "string"},
                                "jobs": OBJECT}}, "the job is queued"),
        (400, 404, 409, 413, 415), body=JOB_BODY, params=(NAME_PARAM,)),
    ("GET", "/settings"): _op("Every setting", ("200", settings_schema(False), "the settings")),
    ("POST", "/settings"): _op(
        "Change some settings: all valid, or nothing changes",
        ("200", settings_schema(False), "the full settings after the change"),
        (400, 413, 415), body=settings_schema(True)),
    ("GET", "/siridb/status"): _op("The hub's SiriDB connection", ("200", {
        "type": "object", "required": ["status"], "additionalProperties": True,
        "properties": {"status": {"type": "string",
                                  "enum": ["not_configured", "connected", "failing"]},
                       "configured": {"type": "boolean"}, "connected": {"type": "boolean"}},
    }, "the status")),
    ("GET", "/enodo/status"): _op("The hub's health", ("200", {
        "type": "object", "required": ["version", "protocol", "hub_id"],
        "additionalProperties": True,
        "properties": {"version": {"type": "string"}, "protocol": {"type": "integer"},
                       "hub_id": {"type": "string"}, "uptime": {"type": "number"},
                       "series": {"type": "integer"}, "peers": OBJECT, "jobs": OBJECT},
    }, "the status")),
    ("GET", "/enodo/log"): _op(
        "The event log, newest first",
        ("200", {"type": "object", "required": ["events"], "properties": {
            "events": {"type": "array", "items": OBJECT}}}, "the events"), (400,),
        params=({"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000,
                            "default": 100}},)),
    ("GET", "/enodo/clients"): _op("Every client the hub has seen", ("200", {
        "type": "object", "required": ["clients"], "properties": {
            "clients": {"type": "array", "items": OBJECT}}}, "the clients")),
    ("GET", "/openapi.json"): _op("This document", ("200", OBJECT, "the OpenAPI document")),
}
GENERIC = _op("(not described yet)", ("200", {}, "the action's data"), (400, 404))


def openapi_path(uri_template: str) -> str:
    """Turn a falcon URI template into an OpenAPI path: {name:series_name} -> {name}."""
    parts = []
    for segment in uri_template.split("/"):
        if segment.startswith("{") and ":" in segment:
            segment = segment.split(":", 1)[0] + "}"
        parts.append(segment)
    return "/".join(parts)


def routes(app: falcon.App) -> Iterator[tuple[str, str]]:
    """Yield (method, OpenAPI path) for every route and method the app serves."""
    stack = list(app._router._roots)  # falcon keeps no public list of its routes
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.resource is None:
            continue
        for method in METHODS:
            if hasattr(node.resource, f"on_{method.lower()}"):
                yield method, openapi_path(node.uri_template)


def openapi_document(app: falcon.App, bearer: bool = False) -> dict[str, Any]:
    """The OpenAPI document of app; with bearer, every path but this one needs a token."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in sorted(routes(app)):
        operation = dict(OPERATIONS.get((method, path), GENERIC))
        if bearer and path != "/openapi.json":
            operation["responses"] = {**operation["responses"], **_errors(401)}
        paths.setdefault(path, {})[method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": VERSION,
        "info": {"title": "Enodo REST API", "version": "1",
                 "description": "Forecasts and anomalies of SiriDB series. Every error has "
                                "the shape {\"error\": {\"code\", \"message\"}}."},
        "paths": paths,
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }},
        }}},
    }
    if bearer:
        document["components"]["securitySchemes"] = {"bearer": {"type": "http",
                                                                "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
        document["paths"]["/openapi.json"]["get"]["security"] = []
    return document


class OpenAPIResource:
    """GET /openapi.json: the document of the app it is mounted in (built on first use)."""

    def __init__(self, app: falcon.App, bearer: bool = False) -> None:
        self.app = app
        self.bearer = bearer
        self._document: bytes | None = None
        self._lock = threading.Lock()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return the document."""
        with self._lock:
            if self._document is None:
                from protocol.envelope import dumps

                self._document = dumps(openapi_document(self.app, self.bearer))
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._document
