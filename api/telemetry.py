"""REST metrics: requests by route template, method and status, and their latency.

`RequestMetrics` is a Falcon middleware. Under gunicorn every worker process counts into
files in PROMETHEUS_MULTIPROC_DIR and the master serves their sum on a port of its own
(api/metrics_files.py, configs/gunicorn.conf.py).
"""

from __future__ import annotations

import os
import time
from typing import Any

import falcon
from prometheus_client import CollectorRegistry, Counter, Histogram

#: Route label of requests no route took: 404s, and those refused before routing (401).
UNROUTED = "unrouted"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0)


class ApiMetrics:
    """The API's metric objects, registered in `registry` (a fresh one unless given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "enodo_api_requests", "REST requests by route template, method and status",
            ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "enodo_api_request_duration_seconds",
            "Seconds from a request's routing to its response, by route template and method",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry)


def metrics_from_env() -> ApiMetrics | None:
    """ApiMetrics when gunicorn's config turned multiprocess metrics on, else None."""
    return ApiMetrics() if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else None


class RequestMetrics:
    """Counts and times every request; labels are the route template, never the raw path.

    First in the middleware list, so that requests refused by later middleware (401, 408)
    are counted too: Falcon runs every process_response whatever process_request raised.
    """

    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Note when the request started."""
        req.context.metrics_started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        """Count the response under its route template, method and status."""
        route = req.uri_template or UNROUTED
        method = req.method if req.method in METHODS else "other"
        self.metrics.requests.labels(route, method, str(resp.status_code)).inc()
        started = getattr(req.context, "metrics_started", None)
        if started is not None:
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)
