"""The REST API described as OpenAPI 3.1, served at GET /openapi.json.

The paths come from the app's own router (every route and method it serves), the words
from each resource's DOC (api/resources.py: a resource says its route, its handler and its
description in one place); a route added without one still appears (with the generic
answers) and the API tests fail until it is described. Every
body and answer schema is generated from the protocol's shapes (protocol/actions.py,
protocol/settings.py): the hub checks params against the same shapes and the API tests
hold the hub's answers to them, so the document cannot drift from what is served.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import falcon
import msgspec

from actors.common.siridb_queries import MAX_PLAIN_NAME_BYTES
from api.auth import OPEN_PATHS
from api.server_edges import MAX_ENCODED_NAME
from protocol import actions as shapes
from protocol import alert_actions as alerts
from protocol import patterns
from protocol.anomaly import AnomalySettings
from protocol.names import MAX_NAME_BYTES
from protocol.settings import KEYS, RuntimeSettings

VERSION = "3.1.0"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
JSON = "application/json"
REF = "#/components/schemas/{name}"

OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
ERROR = {"$ref": "#/components/schemas/Error"}
NAME_PARAM = {
    "name": "name", "in": "path", "required": True,
    "description": "The series name as ONE path segment, percent-encoded like "
                   "encodeURIComponent (`a/b` is `a%2Fb`).",
    "schema": {"type": "string", "minLength": 1},
}

#: Every shape the document names, generated once (with the shapes they contain).
_TYPES = [shapes.SeriesList, shapes.SeriesDetail, shapes.AddSeries, shapes.Removed,
          shapes.Forecast, shapes.Anomalies, shapes.Accuracy, shapes.JobRequest,
          shapes.JobQueued, RuntimeSettings, shapes.SiriDBStatus, shapes.EnodoStatus,
          shapes.EventLog, shapes.Clients, AnomalySettings, shapes.RulesBody,
          shapes.SeriesRules, alerts.AlertOutput,
          alerts.OutputView, alerts.Outputs, alerts.NewSilence, alerts.Silence, alerts.Silences,
          alerts.Deliveries, alerts.Deleted, patterns.NewPattern,
          patterns.PatternInfo, patterns.PatternList, patterns.PatternSeries,
          patterns.PatternRemoved]
_REFS, COMPONENTS = msgspec.json.schema_components(_TYPES, ref_template=REF)
_REF = dict(zip(_TYPES, _REFS, strict=True))
# The wire keeps `anomaly` an object so that its checks word their own errors; the
# document says what that object holds.
COMPONENTS["AddSerie"]["properties"]["anomaly"] = _REF[AnomalySettings]
# So do `rules` (a list of data and forecast rules, docs/rules.md).
COMPONENTS["AddSerie"]["properties"]["rules"] = COMPONENTS["RulesBody"]["properties"]["rules"]
COMPONENTS["AddSerie"]["properties"]["horizon"]["description"] = (
    'forecast steps, or a span ("6h", "7d") converted with the interval the series\' '
    "analysis finds (the horizon setting until then)")
COMPONENTS["AddSerie"]["properties"]["name"]["description"] = (
    f"any text without NUL, at most {MAX_NAME_BYTES} UTF-8 bytes, short enough for Enodo's "
    f"SiriDB queries about it (plain ASCII: {MAX_PLAIN_NAME_BYTES} bytes; a quote counts twice) "
    f"and at most {MAX_ENCODED_NAME} bytes percent-encoded (a URL)")
COMPONENTS["AddSerie"]["properties"]["model"]["description"] = (
    "a model name (arima, prophet, ...) or legacy id (1, 2)")
# A pattern's template is that body without its name: the same words.
for _key in ("anomaly", "model"):
    COMPONENTS["SeriesTemplate"]["properties"][_key] = COMPONENTS["AddSerie"]["properties"][_key]
PATTERN_ID_PARAM = {
    "name": "id", "in": "path", "required": True, "description": "The pattern's id.",
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
}


def query_limit(default: int | None = None) -> dict[str, Any]:
    """The ?limit=1..1000 query parameter."""
    schema = {**LIMIT, "default": default} if default is not None else dict(LIMIT)
    return {"name": "limit", "in": "query", "required": False, "schema": schema}


def ref(shape: Any) -> dict[str, Any]:
    """The schema of a protocol shape: a reference to its component."""
    return _REF[shape]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    """Error responses: the given statuses, plus 500 and 503 that any request may meet."""
    what = {
        400: "invalid request (bad body, name or parameter), or refused by the hub",
        401: "bearer token missing or wrong (when the API requires one)",
        403: "the read-only token may only GET",
        404: "no such series or resource", 405: "method not allowed on this path",
        408: "the body did not arrive within api.body_timeout",
        409: "conflict (the series exists; no model yet)", 413: "body too large",
        415: "body is not application/json", 500: "internal error (see the logs)",
        503: "the hub did not answer in time (Retry-After: 1)",
    }
    return {str(s): _json(ERROR, what[s]) for s in sorted({*statuses, 500, 503})}


def settings_change() -> dict[str, Any]:
    """POST /settings: any non-empty subset of the settings."""
    schema = {k: v for k, v in COMPONENTS["RuntimeSettings"].items() if k != "required"}
    return {**schema, "minProperties": 1, "additionalProperties": False}


#: Every setting is always in the answer (the shape's keys all have defaults).
COMPONENTS["RuntimeSettings"]["required"] = sorted(KEYS)
LIMIT = msgspec.json.schema(shapes.Limit)


def op(summary: str, ok: tuple[str, dict[str, Any], str], errors: tuple[int, ...] = (),
        body: dict[str, Any] | None = None, params: tuple[dict[str, Any], ...] = (),
        headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """One operation: its summary, success (status, schema, words), errors, body, parameters."""
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


GENERIC = op("(not described yet)", ("200", {}, "the action's data"), (400, 404))


def openapi_path(uri_template: str) -> str:
    """Turn a falcon URI template into an OpenAPI path: {name:series_name} -> {name}."""
    parts = []
    for segment in uri_template.split("/"):
        if segment.startswith("{") and ":" in segment:
            segment = segment.split(":", 1)[0] + "}"
        parts.append(segment)
    return "/".join(parts)


def routes(app: falcon.App) -> Iterator[tuple[str, str, Any]]:
    """Yield (method, OpenAPI path, resource) for every route and method the app serves."""
    stack = list(app._router._roots)  # falcon keeps no public list of its routes
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        # The console's HTML pages (api/console/) are not part of the REST API.
        if node.resource is None or not getattr(node.resource, "in_openapi", True):
            continue
        for method in METHODS:
            if hasattr(node.resource, f"on_{method.lower()}"):
                yield method, openapi_path(node.uri_template), node.resource


def openapi_document(app: falcon.App, bearer: bool = False) -> dict[str, Any]:
    """The OpenAPI document of app; with bearer, every path but this one needs a token."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, resource in sorted(routes(app), key=lambda r: r[:2]):
        operation = dict(getattr(resource, "DOC", {}).get(method, GENERIC))
        if bearer and path not in OPEN_PATHS:
            writes = method not in ("GET", "HEAD")
            operation["responses"] = {**operation["responses"],
                                      **_errors(*((401, 403) if writes else (401,)))}
        paths.setdefault(path, {})[method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": VERSION,
        "info": {"title": "Enodo REST API", "version": "1",
                 "description": "Forecasts and anomalies of SiriDB series. Every error has "
                                "the shape {\"error\": {\"code\", \"message\"}}."},
        "paths": paths,
        "components": {"schemas": {**COMPONENTS, "Error": {
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
        for path in OPEN_PATHS & document["paths"].keys():
            document["paths"][path]["get"]["security"] = []
    return document


class OpenAPIResource:
    """GET /openapi.json: the document of the app it is mounted in (built on first use)."""

    DOC = {"GET": op("This document", ("200", OBJECT, "the OpenAPI document"))}

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
