"""REST resources: each turns an HTTP request into one hub action; no ZMQ in here.

Success bodies are the action's data as the hub returns it; errors (HubError or a
bad request) are rendered by api/errors.py.
"""

from __future__ import annotations

from typing import Any, Protocol

import falcon

from api.bodies import JOB_BODY, SERIES_BODY, check_body, read_object
from api.errors import api_error, bad_request
from api.hub_client import HubError
from api.routing import encode_name, series_path
from api.server_edges import MAX_ENCODED_NAME


class Hub(Protocol):
    """What resources need from the hub: HubClient, or a fake in tests."""

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

    def __init__(self, hub: Hub) -> None:
        self.hub = hub


class ActionResource(HubResource):
    """GET runs one parameterless action (status pages, client list)."""

    def __init__(self, hub: Hub, action: str) -> None:
        super().__init__(hub)
        self.action = action

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return the action's data."""
        _reply(resp, self.hub.request(self.action))


class SeriesCollection(HubResource):
    """/series: list watched series, add one."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List the watched series (summaries)."""
        _reply(resp, self.hub.request("list_series"))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Add a series: {"name", "model"?, "model_parameters"?, "realtime"?} -> 201."""
        body = read_object(req)
        check_body(body, SERIES_BODY)
        check_servable(body["name"])
        _reply(resp, self.hub.request("add_series", body))
        resp.status = falcon.HTTP_201
        resp.set_header("Location", req.root_path + series_path(body["name"]))


class SeriesItem(HubResource):
    """/series/{name}: one series' detail; DELETE stops watching it."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the series' detail."""
        _reply(resp, self.hub.request("get_series", {"name": name}))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Stop watching the series."""
        _reply(resp, self.hub.request("remove_series", {"name": name}))


class SeriesForecast(HubResource):
    """/series/{name}/forecast: the latest forecast, a page at a time (?offset, ?limit)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return a page of the series' latest forecast (limit 1..1000, default 1000)."""
        params: dict[str, Any] = {"name": name}
        offset = req.get_param_as_int("offset", min_value=0, max_value=2**31)
        limit = req.get_param_as_int("limit", min_value=1, max_value=1000)
        if offset is not None:
            params["offset"] = offset
        if limit is not None:
            params["limit"] = limit
        _reply(resp, self.hub.request("get_forecast", params))


class SeriesAnomalies(HubResource):
    """/series/{name}/anomalies: the anomalies found (?limit=1..1000 newest, default 1000)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the series' anomalies."""
        params: dict[str, Any] = {"name": name}
        limit = req.get_param_as_int("limit", min_value=1, max_value=1000)
        if limit is not None:
            params["limit"] = limit
        _reply(resp, self.hub.request("get_anomalies", params))


class SeriesAccuracy(HubResource):
    """/series/{name}/accuracy: backtest accuracy of the model and the seasonal-naive baseline."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the series' accuracy report."""
        _reply(resp, self.hub.request("get_accuracy", {"name": name}))


class SeriesJobs(HubResource):
    """/series/{name}/jobs: queue a train, fit or forecast job now."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Queue the job {"type": "train"|"fit"|"forecast"} -> 202."""
        body = read_object(req)
        check_body(body, JOB_BODY)
        _reply(resp, self.hub.request("queue_job", {"name": name, "job_type": body["type"]}))
        resp.status = falcon.HTTP_202


class Settings(HubResource):
    """/settings: read all settings, change some."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return every setting."""
        _reply(resp, self.hub.request("get_settings"))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Change the keys given; return the full settings (nothing changes on error)."""
        body = read_object(req)
        _reply(resp, self.hub.request("set_settings", {"settings": body}))


class EventLog(HubResource):
    """/enodo/log: the hub's event log, newest first (?limit=1..1000, default 100)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return the latest events."""
        limit = req.get_param_as_int("limit", min_value=1, max_value=1000)
        params = None if limit is None else {"limit": limit}
        _reply(resp, self.hub.request("event_log", params))


class Health:
    """/health: the API process is up (no hub asked); no token needed."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Return {"status": "ok"}."""
        resp.media = {"status": "ok"}


class Ready(HubResource):
    """/ready: the hub answers and has SiriDB connected (503 otherwise); no token needed."""

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
