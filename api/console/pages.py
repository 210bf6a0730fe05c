"""The console's pages (GET): each asks the hub as the REST resources do, then renders.

Every page has a live part; `?part=live` answers only that fragment, which the page's
script fetches every few seconds (a poll is one short request: no worker is held).
"""

from __future__ import annotations

from typing import Any

import falcon

from api.console.history import HistoryError, HistoryReader
from api.console.views import analysis_rows, chart_data, read_forecast, rule_rows, series_rows
from api.console.web import Console, changed_fields
from api.hub_client import HubError
from protocol.settings import rules

#: Series per page of the list.
PAGE_SIZE = 50
#: Events read for the event log page (the hub keeps more; the page filters these).
EVENTS_READ = 1000
LEVELS = ("", "info", "warning", "error")
#: The job states the list filters by (any kind's last job).
JOB_STATES = ("none", "queued", "running", "done", "failed")


def _live(req: falcon.Request) -> bool:
    return req.get_param("part") == "live"


class SeriesList(Console):
    """/ui: the watched series, filtered and sorted by name, a page at a time."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the list (or its table alone for a poll)."""
        session = self.session(req, resp)
        query = {"filter": req.get_param("filter") or "", "desc": req.get_param("order") == "desc",
                 "offset": req.get_param_as_int("offset", min_value=0) or 0, "limit": PAGE_SIZE}
        error = req.get_param("error")
        state, model = req.get_param("state") or "", (req.get_param("model") or "")[:128]
        if state and state not in JOB_STATES:
            error, state = f"unknown state {state[:32]!r}: one of {', '.join(JOB_STATES)}", ""
        page = self.hub.request("console_series", {
            **query, **({"state": state} if state else {}), **({"model": model} if model else {})})
        query.update(state=state, model=model)
        context: dict[str, Any] = {"page": page, "rows": series_rows(page), "query": query,
                                   "states": JOB_STATES, "error": error,
                                   "done": req.get_param("done")}
        template = "series_table.html" if _live(req) else "series_list.html"
        self.render(resp, template, session, **context)


class SeriesPage(Console):
    """/ui/series/{name}: chart, settings, jobs and the changes one series takes."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Render the series (its live part is its status tables; the chart polls JSON)."""
        session = self.session(req, resp)
        try:
            detail = self.hub.request("get_series", {"name": name})
        except HubError as exc:
            if exc.code != "not_found":
                raise
            # A link to a series removed meanwhile: say so on a page, not in JSON.
            self.render(resp, "missing.html", session, status=404, error=exc.message)
            return
        accuracy = self.hub.request("get_accuracy", {"name": name})
        finished = self.hub.request("job_history", {"name": name})["jobs"]
        log = self.hub.request("event_log", {"limit": EVENTS_READ})["events"]
        events = [e for e in log if e.get("series") == name][:50]
        template = "series_live.html" if _live(req) else "series_page.html"
        self.render(resp, template, session, s=detail, accuracy=accuracy, events=events,
                    finished=finished, rules=rule_rows(detail),
                    analysis=analysis_rows(detail.get("analysis")),
                    error=req.get_param("error"), done=req.get_param("done"))


class SeriesChart(Console):
    """/ui/series/{name}/chart: the chart's data as JSON (history, forecast, anomalies)."""

    def __init__(self, *args: Any, history: HistoryReader) -> None:
        super().__init__(*args)
        self.history = history

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Return the chart's columns; a SiriDB failure is shown, not fatal."""
        self.session(req, resp, page=False)
        forecast = read_forecast(self.hub, name)
        anomalies = self.hub.request("get_anomalies", {"name": name})
        try:
            history, error = self.history.tail(name), None
        except HistoryError as exc:
            history, error = [], str(exc)
        resp.set_header("Cache-Control", "no-store")
        resp.media = chart_data(history, forecast, anomalies, error)


class Clients(Console):
    """/ui/clients: listeners and workers as the hub knows them."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the clients table."""
        session = self.session(req, resp)
        clients = self.hub.request("console_clients")["clients"]
        status = self.hub.request("enodo_status")
        template = "clients_table.html" if _live(req) else "clients.html"
        self.render(resp, template, session, clients=clients, hub_status=status)


class EventLog(Console):
    """/ui/events: the hub's event log, filtered by level, kind and series."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the newest events that pass the filters."""
        session = self.session(req, resp)
        filters = {key: (req.get_param(key) or "").strip() for key in ("level", "kind", "series")}
        if filters["level"] not in LEVELS:
            raise falcon.HTTPBadRequest(description=f"level must be one of {LEVELS[1:]}")
        log = self.hub.request("event_log", {"limit": EVENTS_READ})["events"]
        kinds = sorted({e["kind"] for e in log})
        shown = [e for e in log
                 if (not filters["level"] or e["level"] == filters["level"])
                 and (not filters["kind"] or e["kind"] == filters["kind"])
                 and filters["series"].casefold() in (e.get("series") or "").casefold()]
        template = "events_table.html" if _live(req) else "events.html"
        self.render(resp, template, session, events=shown, filters=filters, kinds=kinds,
                    levels=LEVELS)


class SettingsPage(Console):
    """/ui/settings: every setting with its rule; POST changes them as POST /settings does."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the settings form."""
        session = self.session(req, resp)
        self.show(resp, session, self.hub.request("get_settings"), req.get_param("done"), None)

    def show(self, resp: falcon.Response, session: Any, values: dict[str, Any],
             done: str | None, error: str | None, status: int = 200) -> None:
        """Render the form with a message (the hub's own on a refused change)."""
        self.render(resp, "settings.html", session, values=values, rules=rules(), done=done,
                    error=error, status=status)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Change the fields that differ; a refusal shows the hub's message, nothing changed."""
        session, form = self.change(req, resp)
        current = self.hub.request("get_settings")
        changes = changed_fields(form, current)
        if not changes:
            self.show(resp, session, current, "nothing changed", None)
            return
        try:
            values = self.hub.request("set_settings", {"settings": changes})
        except HubError as exc:
            if exc.code in ("internal", "unavailable"):
                raise
            self.show(resp, session, {**current, **changes}, None, exc.message, status=400)
            return
        self.show(resp, session, values, f"changed: {', '.join(sorted(changes))}", None)
