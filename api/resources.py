"""REST resources: each turns an HTTP request into one hub action; no ZMQ in here.

A resource says in one place what it serves: its route (`mount()` below lists them all,
app.py mounts that list), its handlers, and its OpenAPI description (DOC, built from the
protocol's shapes). Adding an endpoint is an action (protocol/actions.py, and the hub's
actors/hub/actions.py) plus an entry here.

Success bodies are the action's data as the hub returns it; errors (HubError or a
bad request) are rendered by api/errors.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode

import falcon

from api import alert_resources
from api.bodies import check_body, read_object
from api.errors import api_error, bad_request
from api.hub_client import HubError
from api.openapi import NAME_PARAM, op, query_limit, ref, settings_change
from api.routing import encode_name, series_path
from api.server_edges import MAX_ENCODED_NAME
from protocol import actions as shapes
from protocol.settings import RuntimeSettings

#: The series name as one path segment (api/routing.py decodes it).
NAME = "{name:series_name}"
SERIES = f"/series/{NAME}"
Doc = dict[str, dict[str, Any]]


class Hub(Protocol):
    """What resources need from the hub: HubClient, or a stand-in in tests."""

    def request(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Run action; return its data or raise HubError."""
        ...


def _reply(resp: falcon.Response, data: Any) -> None:
    # falcon writes no body for media None; a JSON null is still the action's answer.
    if data is None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = b"null"
    else:
        resp.media = data


def check_servable(name: str) -> None:
    """Refuse a name whose URL would not fit gunicorn's request line (it could not be read back)."""
    encoded = len(encode_name(name))
    if encoded > MAX_ENCODED_NAME:
        raise bad_request(
            f"name too long for a URL: {encoded} bytes percent-encoded, at most "
            f"{MAX_ENCODED_NAME} (the request line limit) so that /series/{{name}} can serve it"
        )


class HubResource:
    """Base of every resource: holds the injected hub client."""

    DOC: ClassVar[Doc] = {}

    def __init__(self, hub: Hub) -> None:
        self.hub = hub


class ActionResource(HubResource):
    """GET runs one parameterless action (status pages, client list)."""

    def __init__(self, hub: Hub, action: str, summary: str) -> None:
        super().__init__(hub)
        self.action = action
        self.DOC = {"GET": op(summary, ("200", ref(shapes.ACTIONS[action][1]), summary))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return the action's data."""
        _reply(resp, self.hub.request(self.action))


@dataclass(frozen=True)
class Query:
    """An integer query parameter passed on to the action (?offset, ?limit)."""

    name: str
    minimum: int
    maximum: int
    default: int
    description: str

    def doc(self) -> dict[str, Any]:
        """Its OpenAPI parameter."""
        return {"name": self.name, "in": "query", "required": False,
                "description": self.description,
                "schema": {"type": "integer", "minimum": self.minimum, "maximum": self.maximum,
                           "default": self.default}}


class SeriesAction(HubResource):
    """GET runs one action on the series named in the path (its outputs, its accuracy)."""

    def __init__(self, hub: Hub, action: str, summary: str, query: tuple[Query, ...] = ()) -> None:
        super().__init__(hub)
        self.action = action
        self.query = query
        self.DOC = {"GET": op(summary, ("200", ref(shapes.ACTIONS[action][1]), summary),
                              (400, 404), params=(NAME_PARAM, *(q.doc() for q in query)))}

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the action's data for the series (400 for a query parameter out of range)."""
        params: dict[str, Any] = {"name": name}
        for q in self.query:
            value = req.get_param_as_int(q.name, min_value=q.minimum, max_value=q.maximum)
            if value is not None:
                params[q.name] = value
        _reply(resp, self.hub.request(self.action, params))


def _text_param(name: str, description: str, enum: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 0 if name == "after" else 1}
    if enum:
        schema["enum"] = list(enum)
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


#: GET /series's query parameters (shapes.SeriesListParams says what each means).
LIST_PARAMS = (
    _text_param("pattern", "glob (*, ?, [abc]) the whole name matches, case-sensitive"),
    _text_param("state", "state of the last job (of `job`'s kind, else of any kind)",
                ("none", "queued", "running", "done", "failed")),
    _text_param("job", "the job kind `state` looks at", ("train", "fit", "forecast")),
    _text_param("model", "model name"),
    _text_param("after", "the previous page's `next` (the page starts after this name)"),
    Query("limit", 1, shapes.SERIES_PAGE_MAX, shapes.SERIES_PAGE, "series per page").doc(),
)


class SeriesCollection(HubResource):
    """/series: list watched series (a page at a time), add one."""

    DOC: ClassVar[Doc] = {
        "GET": op("List the watched series, a page at a time, sorted by name",
                  ("200", ref(shapes.SeriesList), "a page of the series (`next`: the "
                   "following page's `after`, null on the last)"), (400,), params=LIST_PARAMS),
        "POST": op("Watch a series", ("201", ref(shapes.SeriesDetail), "the series added"),
                   (400, 408, 409, 413, 415), body=ref(shapes.AddSeries),
                   headers={"Location": {"schema": {"type": "string"},
                                         "description": "the series' path, already encoded"}}),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """A page of the watched series (summaries); 400 for a parameter out of range."""
        params: dict[str, Any] = {}
        for name in ("pattern", "state", "job", "model", "after"):
            value = req.get_param(name, default=None)
            if value is not None:
                params[name] = value
        limit = req.get_param_as_int("limit", min_value=1, max_value=shapes.SERIES_PAGE_MAX)
        if limit is not None:
            params["limit"] = limit
        check_body(params, shapes.SeriesListParams)
        data = self.hub.request("list_series", params)
        if data.get("next") is not None:
            query = {**params, "after": data["next"]}
            resp.set_header("Link", f'<{req.root_path}{req.path}?{urlencode(query)}>; rel="next"')
        _reply(resp, data)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Add a series: {"name", "model"?, "model_parameters"?, "realtime"?} -> 201."""
        body = read_object(req)
        check_body(body, shapes.AddSeries)
        check_servable(body["name"])
        _reply(resp, self.hub.request("add_series", body))
        resp.status = falcon.HTTP_201
        resp.set_header("Location", req.root_path + series_path(body["name"]))


class SeriesItem(HubResource):
    """/series/{name}: one series' detail; DELETE stops watching it."""

    DOC: ClassVar[Doc] = {
        "GET": op("One series in full", ("200", ref(shapes.SeriesDetail), "the series"),
                  (400, 404), params=(NAME_PARAM,)),
        "DELETE": op("Stop watching a series", ("200", ref(shapes.Removed), "the series removed"),
                     (400, 404), params=(NAME_PARAM,)),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the series' detail."""
        _reply(resp, self.hub.request("get_series", {"name": name}))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Stop watching the series."""
        _reply(resp, self.hub.request("remove_series", {"name": name}))


class SeriesJobs(HubResource):
    """/series/{name}/jobs: queue a train, fit or forecast job now."""

    DOC: ClassVar[Doc] = {"POST": op(
        "Queue a train, fit or forecast job now",
        ("202", ref(shapes.JobQueued), "the job is queued"),
        (400, 404, 408, 409, 413, 415), body=ref(shapes.JobRequest), params=(NAME_PARAM,))}

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Queue the job {"type": "train"|"fit"|"forecast"} -> 202."""
        body = read_object(req)
        job = check_body(body, shapes.JobRequest)
        _reply(resp, self.hub.request("queue_job", {"name": name, "job_type": job.type.value}))
        resp.status = falcon.HTTP_202


class SeriesRulesResource(HubResource):
    """/series/{name}/rules: replace the series' rules (docs/rules.md)."""

    DOC: ClassVar[Doc] = {"PUT": op(
        "Replace the series' rules: all valid, or nothing changes",
        ("200", ref(shapes.SeriesRules), "the rules and their states"),
        (400, 404, 408, 413, 415), body=ref(shapes.RulesBody), params=(NAME_PARAM,))}

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Set the rules {"rules": [...]} ([] removes them all) -> 200."""
        body = read_object(req)
        check_body(body, shapes.RulesBody)
        _reply(resp, self.hub.request("set_rules", {"name": name, "rules": body["rules"]}))


class Settings(HubResource):
    """/settings: read all settings, change some."""

    DOC: ClassVar[Doc] = {
        "GET": op("Every setting", ("200", ref(RuntimeSettings), "the settings")),
        "POST": op("Change some settings: all valid, or nothing changes",
                   ("200", ref(RuntimeSettings), "the full settings after the change"),
                   (400, 408, 413, 415), body=settings_change()),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return every setting."""
        _reply(resp, self.hub.request("get_settings"))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Change the keys given; return the full settings (nothing changes on error)."""
        body = read_object(req)
        _reply(resp, self.hub.request("set_settings", {"settings": body}))


class EventLog(HubResource):
    """/enodo/log: the hub's event log, newest first (?limit=1..1000, default 100)."""

    DOC: ClassVar[Doc] = {"GET": op(
        "The event log, newest first", ("200", ref(shapes.EventLog), "the events"), (400,),
        params=(query_limit(100),))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return the latest events."""
        limit = req.get_param_as_int("limit", min_value=1, max_value=1000)
        params = None if limit is None else {"limit": limit}
        _reply(resp, self.hub.request("event_log", params))


def mount(hub: Hub) -> list[tuple[str, object]]:
    """Every route of the API and its resource (app.py mounts them in this order)."""
    return [
        ("/series", SeriesCollection(hub)),
        (SERIES, SeriesItem(hub)),
        (SERIES + "/forecast", SeriesAction(
            hub, "get_forecast",
            "A page of the latest forecast (no forecast yet: empty points, total 0)",
            (Query("offset", 0, 2**31, 0, "index of the first point"),
             Query("limit", 1, 1000, shapes.FORECAST_PAGE, "points per page")))),
        (SERIES + "/anomalies", SeriesAction(
            hub, "get_anomalies", "The anomalies found (the newest `limit`), oldest first",
            (Query("limit", 1, 1000, 1000, "the newest anomalies and events to return"),))),
        (SERIES + "/accuracy", SeriesAction(
            hub, "get_accuracy",
            "Backtest accuracy of the model and of the seasonal-naive baseline")),
        (SERIES + "/jobs", SeriesJobs(hub)),
        (SERIES + "/rules", SeriesRulesResource(hub)),
        ("/settings", Settings(hub)),
        ("/siridb/status", ActionResource(hub, "siridb_status", "The hub's SiriDB connection")),
        ("/enodo/status", ActionResource(hub, "enodo_status", "The hub's health")),
        ("/enodo/log", EventLog(hub)),
        ("/enodo/clients", ActionResource(hub, "list_clients", "Every client the hub has seen")),
        *alert_resources.mount(hub),
        ("/health", Health()),
        ("/ready", Ready(hub)),
    ]


class Health:
    """/health: the API process is up (no hub asked); no token needed."""

    DOC: ClassVar[Doc] = {"GET": op(
        "The API process is up (asks nothing of the hub; no token)",
        ("200", {"type": "object", "required": ["status"], "additionalProperties": False,
                 "properties": {"status": {"type": "string", "enum": ["ok"]}}}, "up"))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return {"status": "ok"}."""
        resp.media = {"status": "ok"}


class Ready(HubResource):
    """/ready: the hub answers and has SiriDB connected (503 otherwise); no token needed."""

    DOC: ClassVar[Doc] = {"GET": op(
        "The hub answers and has SiriDB connected (no token)",
        ("200", {"type": "object", "required": ["status"], "additionalProperties": True,
                 "properties": {"status": {"type": "string", "enum": ["ready"]},
                                "hub": {"type": "string"}, "siridb": {"type": "string"}}},
         "ready; 503 with the error shape says what is missing"))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return {"status": "ready", "hub": ..., "siridb": ...} or a 503 saying what is missing."""
        try:
            siridb = self.hub.request("siridb_status")
        except HubError as exc:
            message = f"not ready: the hub does not answer ({exc.message})"
            raise api_error("unavailable", message) from None
        if siridb.get("status") != "connected":
            detail = siridb.get("error") or siridb.get("status")
            raise api_error("unavailable", f"not ready: SiriDB is not connected ({detail})")
        resp.media = {"status": "ready", "hub": "ok", "siridb": siridb.get("status")}
