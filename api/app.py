"""The Falcon application factory; the hub client is injected."""

from __future__ import annotations

import functools
from collections.abc import Callable

import falcon
import falcon.media
import ujson

from api.auth import BearerAuth
from api.bodies import MAX_BODY_SIZE
from api.console import install_console
from api.console.history import HistoryReader
from api.deadline import DEFAULT_BODY_TIMEOUT, BodyDeadline
from api.errors import install_error_handling
from api.openapi import OpenAPIResource
from api.pattern_resources import pattern_routes
from api.resources import Hub, mount
from api.routing import RawPathMiddleware, SeriesNameConverter
from api.server_edges import ChunkedBody
from api.telemetry import ApiMetrics, RequestMetrics


def json_handler() -> falcon.media.JSONHandler:
    """Return falcon's JSON media handler backed by ujson."""
    dumps = functools.partial(ujson.dumps, ensure_ascii=False, escape_forward_slashes=False)
    return falcon.media.JSONHandler(dumps=dumps, loads=ujson.loads)


def create_app(
    hub: Hub,
    bearer: Callable[[], str] | None = None,
    read_bearer: Callable[[], str] | None = None,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    history: HistoryReader | None = None,
    metrics: ApiMetrics | None = None,
) -> falcon.App:
    """Return the REST application, asking `hub` (a HubClient or a fake) for everything.

    With `bearer` (returning the expected token), requests need `Authorization: Bearer`;
    `read_bearer` returns a token that may only GET. Under gevent a request body must
    arrive within `body_timeout` seconds (408 otherwise). The console under /ui reads
    series history with `history` (none: its charts say SiriDB is not configured). With
    `metrics`, every request is counted and timed by route template.
    """
    middleware: list[object] = [RawPathMiddleware()]
    if metrics is not None:
        middleware.insert(0, RequestMetrics(metrics))  # first: counts what others refuse
    if bearer is not None:
        # After RawPath: it checks the raw path.
        middleware.append(BearerAuth(bearer, read_token=read_bearer))
    middleware.append(BodyDeadline(body_timeout))
    middleware.append(ChunkedBody(MAX_BODY_SIZE))  # after BodyDeadline: its read is bounded
    app = falcon.App(middleware=middleware)
    handlers = falcon.media.Handlers({falcon.MEDIA_JSON: json_handler()})
    app.req_options.media_handlers = handlers
    app.resp_options.media_handlers = handlers
    app.router_options.converters["series_name"] = SeriesNameConverter
    install_error_handling(app)

    for path, resource in [*mount(hub), *pattern_routes(hub)]:
        app.add_route(path, resource)
    install_console(app, hub, bearer, read_bearer, history or HistoryReader(None))
    app.add_route("/openapi.json", OpenAPIResource(app, bearer=bearer is not None))
    return app
