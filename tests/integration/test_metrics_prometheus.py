"""Every actor's /metrics, scraped by a real Prometheus and read back through its query API.

A whole stack of real processes (development SiriDB with its tee, hub, listener, two
workers, gunicorn), each serving /metrics on a port of its own; a Prometheus server
started here on loopback scrapes them every second. Points are inserted through SiriDB, a
series is added and read over REST, a model is trained and a forecast made: the series in
Prometheus must say exactly that.
"""

from __future__ import annotations

import urllib.request

import pytest

from api.routing import series_path
from protocol.alerts import AlertKind, Severity
from tests.integration.test_worker_harness import seasonal_points, siridb
from tests.support.prometheus import Prometheus, prometheus_binary
from tests.support.stack import Stack
from tests.support.waiting import wait_for

NAME = "metrics.cpu"
POINTS = 120
MODEL = "seasonal_naive"
ROUTE = "/series/{name:series_name}"


@pytest.fixture
def stack(tmp_path):
    prometheus_binary()  # skip (or fail as root) before starting anything
    stack = Stack(tmp_path, workers=2, listener=True, api=True, metrics=True,
                  api_env={"ENODO_API_WORKERS": "2"})  # the sum of two processes

    try:
        yield stack.start()
    finally:
        stack.close()


@pytest.fixture
def prometheus(stack, tmp_path):
    targets = {name: f"127.0.0.1:{port}" for name, port in stack.metrics_ports.items()}
    server = Prometheus(tmp_path, targets).start()
    try:
        yield server
    finally:
        server.stop()


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return reply.read().decode()


@pytest.mark.timeout(240)
def test_prometheus_reads_what_happened_from_every_actor(stack, prometheus):
    for name in stack.metrics_ports:
        prometheus.wait_value(f'up{{job="{name}"}}', 1.0)

    siridb(stack.db.port, ("insert", {"primer": [[1, 1]]}))  # opens the tee: not forwarded
    stack.client.call("set_settings", settings={"min_data_points": 100, "horizon": 6})
    assert stack.api.request("POST", "/series", {"name": NAME, "model": MODEL})[0] == 201
    # The listener counts a series' points from when the hub told it to watch it.
    wait_for(lambda: "enodo_listener_watched_series 1.0" in scrape(
        stack.metrics_ports["listener"]), 30, "the listener watching the series")
    siridb(stack.db.port, ("insert", {NAME: seasonal_points(POINTS)}))
    wait_for(lambda: stack.job(NAME, "forecast")["state"] == "done", 120, "a forecast")
    for _ in range(3):
        assert stack.api.request("GET", series_path(NAME))[0] == 200
    assert stack.api.request("GET", series_path("no.such.series"))[0] == 404

    # Points: counted by the listener, reported to the hub under the listener's id.
    prometheus.wait_value("enodo_listener_points_total", POINTS)
    prometheus.wait_value("enodo_listener_points_delivered_total", POINTS)
    listener = stack.listener.env["ENODO_LISTENER_CLIENT_ID"]
    prometheus.wait_value(f'enodo_hub_points_reported_total{{listener="{listener}"}}', POINTS)
    prometheus.wait_until(f'enodo_hub_count_reports_total{{listener="{listener}"}}',
                          lambda n: n >= 1, ">= 1")
    prometheus.wait_value("enodo_hub_watched_series", 1)
    prometheus.wait_value('enodo_hub_peers{type="worker"}', 2)
    prometheus.wait_value("enodo_hub_siridb_connected", 1)
    # Jobs: one train of the series' model, done, timed by the hub and by the worker.
    train = f'kind="train",model="{MODEL}"'
    prometheus.wait_value(f'enodo_hub_jobs_done_total{{{train},outcome="ok"}}', 1)
    prometheus.wait_value(f"enodo_hub_job_duration_seconds_count{{{train}}}", 1)
    prometheus.wait_value(f'sum(enodo_worker_jobs_total{{{train},outcome="ok"}})', 1)
    prometheus.wait_value(f"sum(enodo_worker_model_fit_seconds_count{{{train}}})", 1)
    prometheus.wait_until(
        f'enodo_hub_jobs_done_total{{kind="forecast",model="{MODEL}",outcome="ok"}}',
        lambda n: n >= 1, ">= 1")
    assert prometheus.value('sum(enodo_hub_jobs_done_total{outcome="failed"})') in (None, 0.0)
    prometheus.wait_until("enodo_hub_loop_turn_seconds_count", lambda n: n > 0, "> 0")
    prometheus.wait_until('enodo_hub_siridb_query_duration_seconds_count{query="health_check"}',
                          lambda n: n > 0, "> 0")
    # Alerts: the hub's book (no output here) exports every kind and severity firing.
    prometheus.wait_value("count(enodo_hub_alerts_firing)", len(AlertKind) * len(Severity))
    # REST: by route template and status, each request once (the two gunicorn workers summed).
    prometheus.wait_value('enodo_api_requests_total{route="/series",method="POST",status="201"}',
                          1)
    prometheus.wait_value(f'enodo_api_requests_total{{route="{ROUTE}",method="GET",'
                          f'status="200"}}', 3)
    prometheus.wait_value(f'enodo_api_requests_total{{route="{ROUTE}",method="GET",'
                          f'status="404"}}', 1)
    prometheus.wait_value('enodo_api_request_duration_seconds_count{route="/series",'
                          'method="POST"}', 1)
    assert not prometheus.query('enodo_api_requests_total{route=~".*metrics.cpu.*"}')
