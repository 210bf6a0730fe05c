"""REST resources: each turns an HTTP request into one hub action; no ZMQ in here.

Success bodies are the action's data as the hub returns it; errors (HubError or a
bad request) are rendered by api/errors.py.
"""

from __future__ import annotations

from typing import Any, Protocol

import falcon

from api.bodies import check_body, read_object
from api.routing import series_path
from protocol.actions import AddSeries, JobRequest


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
        check_body(body, AddSeries)
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
    """/series/{name}/forecast: the latest forecast."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the series' latest forecast."""
        _reply(resp, self.hub.request("get_forecast", {"name": name}))


class SeriesAnomalies(HubResource):
    """/series/{name}/anomalies: the anomalies found."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the series' anomalies."""
        _reply(resp, self.hub.request("get_anomalies", {"name": name}))


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
        job = check_body(body, JobRequest)
        _reply(resp, self.hub.request("queue_job", {"name": name, "job_type": job.type.value}))
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
