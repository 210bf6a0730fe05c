"""REST metrics: requests by route template (never the raw path), method and status."""

from __future__ import annotations

import os

import pytest
from falcon import testing

from api import metrics_files
from api.app import create_app
from api.routing import series_path
from api.telemetry import UNROUTED, ApiMetrics

ITEM = "/series/{name:series_name}"


def count(metrics: ApiMetrics, route: str, method: str, status: str) -> float | None:
    return metrics.registry.get_sample_value(
        "enodo_api_requests_total", {"route": route, "method": method, "status": status})


def test_requests_are_counted_by_route_template_method_and_status(hub):
    metrics = ApiMetrics()
    client = testing.TestClient(create_app(hub, metrics=metrics))
    assert client.simulate_post("/series", json={"name": "a/b"}).status_code == 201
    for _ in range(2):
        assert client.simulate_get(series_path("a/b")).status_code == 200
    assert client.simulate_get(series_path("missing")).status_code == 404
    assert client.simulate_get("/no/such/route").status_code == 404
    assert count(metrics, "/series", "POST", "201") == 1
    assert count(metrics, ITEM, "GET", "200") == 2
    assert count(metrics, ITEM, "GET", "404") == 1
    assert count(metrics, UNROUTED, "GET", "404") == 1
    assert metrics.registry.get_sample_value(
        "enodo_api_request_duration_seconds_count", {"route": ITEM, "method": "GET"}) == 3


def test_requests_refused_before_routing_are_counted_too(hub):
    metrics = ApiMetrics()
    app = create_app(hub, bearer=lambda: "secret", metrics=metrics)
    assert testing.TestClient(app).simulate_get("/series").status_code == 401
    assert count(metrics, UNROUTED, "GET", "401") == 1


@pytest.mark.parametrize(("text", "bind"), [
    ("127.0.0.1:9122", ("127.0.0.1", 9122)), (":9000", ("127.0.0.1", 9000)), ("off", None),
    ("", None)])
def test_the_metrics_bind_of_gunicorns_master(text, bind):
    assert metrics_files.metrics_bind({"ENODO_API_METRICS_BIND": text}) == bind
    assert metrics_files.metrics_bind({}) == ("127.0.0.1", 9122)


def test_a_bad_metrics_bind_is_named():
    with pytest.raises(ValueError, match="ENODO_API_METRICS_BIND"):
        metrics_files.metrics_bind({"ENODO_API_METRICS_BIND": "127.0.0.1:http"})


def test_the_multiprocess_folder_is_emptied_at_start(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old run")
    (tmp_path / "keep.txt").write_text("not ours")
    path, made = metrics_files.fresh_dir({"ENODO_API_METRICS_DIR": str(tmp_path)})
    assert (path, made) == (str(tmp_path), False)
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]
    path, made = metrics_files.fresh_dir({})
    assert made and os.listdir(path) == []
    metrics_files.remove_dir(path)
    assert not os.path.exists(path)
