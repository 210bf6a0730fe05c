"""The operator console: HTML pages under /ui/, served by the REST API's own gunicorn.

`install_console(app, ...)` adds every route; the pages ask the hub through the same
client as the REST resources and read series history from SiriDB themselves
(api/console/history.py). Sessions and CSRF: api/console/session.py.
"""

from __future__ import annotations

from collections.abc import Callable

import falcon

from api.console.alert_forms import AddOutput, AddSilence, RemoveOutput, RemoveSilence
from api.console.alerts_page import AlertsPage
from api.console.changes import AddSeries, EditAnomaly, Login, Logout, QueueJob, RemoveSeries
from api.console.history import HistoryReader
from api.console.pages import Clients, EventLog, SeriesChart, SeriesList, SeriesPage, SettingsPage
from api.console.session import SessionKeys
from api.console.static import StaticFiles
from api.console.web import PREFIX, make_templates
from api.resources import Hub

NAME = "{name:series_name}"


def install_console(
    app: falcon.App,
    hub: Hub,
    bearer: Callable[[], str] | None,
    read_bearer: Callable[[], str] | None,
    history: HistoryReader,
) -> None:
    """Add the console's routes to app (the bearer middleware lets /ui through: see auth.py)."""
    keys = SessionKeys(bearer, read_bearer)
    parts = (hub, keys, make_templates())
    app.add_route(PREFIX, SeriesList(*parts))
    app.add_route(f"{PREFIX}/login", Login(*parts))
    app.add_route(f"{PREFIX}/logout", Logout(*parts))
    app.add_route(f"{PREFIX}/series", AddSeries(*parts))
    app.add_route(f"{PREFIX}/series/{NAME}", SeriesPage(*parts))
    app.add_route(f"{PREFIX}/series/{NAME}/chart", SeriesChart(*parts, history=history))
    app.add_route(f"{PREFIX}/series/{NAME}/jobs", QueueJob(*parts))
    app.add_route(f"{PREFIX}/series/{NAME}/anomaly", EditAnomaly(*parts))
    app.add_route(f"{PREFIX}/series/{NAME}/remove", RemoveSeries(*parts))
    app.add_route(f"{PREFIX}/clients", Clients(*parts))
    app.add_route(f"{PREFIX}/events", EventLog(*parts))
    app.add_route(f"{PREFIX}/settings", SettingsPage(*parts))
    app.add_route(f"{PREFIX}/alerts", AlertsPage(*parts))
    app.add_route(f"{PREFIX}/alerts/outputs", AddOutput(*parts))
    app.add_route(f"{PREFIX}/alerts/outputs/{{name}}/remove", RemoveOutput(*parts))
    app.add_route(f"{PREFIX}/alerts/silences", AddSilence(*parts))
    app.add_route(f"{PREFIX}/alerts/silences/{{id}}/remove", RemoveSilence(*parts))
    app.add_route(f"{PREFIX}/static/{{file}}", StaticFiles())
