"""The /metrics endpoint of an actor: served from a thread, off at 0, a taken port tolerated."""

from __future__ import annotations

import logging
import socket
import urllib.request

from prometheus_client import CollectorRegistry, Counter

from actors.common.telemetry import serve_metrics
from actors.worker.telemetry import WorkerMetrics, metrics_port
from tests.support.waiting import free_port

log = logging.getLogger("test")


def test_metrics_are_served_on_the_port_given():
    registry = CollectorRegistry()
    Counter("enodo_test_things", "things", registry=registry).inc(3)
    port = free_port()
    url = serve_metrics(registry, "127.0.0.1", port, "test.metrics_port", log)
    assert url == f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as reply:
        assert "enodo_test_things_total 3.0" in reply.read().decode()


def test_port_zero_serves_nothing_and_a_taken_port_is_logged_not_fatal(caplog):
    assert serve_metrics(CollectorRegistry(), "127.0.0.1", 0, "hub.metrics_port", log) is None
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with caplog.at_level(logging.ERROR):
            assert serve_metrics(CollectorRegistry(), "127.0.0.1", taken, "hub.metrics_port",
                                 log) is None
    assert f"metrics not served on 127.0.0.1:{taken} (hub.metrics_port)" in caplog.text


def test_each_worker_of_a_host_gets_base_plus_its_id():
    assert [metrics_port(9123, s) for s in ("0", "1", "7", None, "gpu")] == \
        [9123, 9124, 9130, 9123, 9123]
    assert metrics_port(0, "3") == 0  # off stays off


def test_a_worker_job_is_counted_by_kind_model_and_outcome():
    metrics = WorkerMetrics()
    metrics.job_ended("train", "ets", "ok", 2.0, 0.5)
    metrics.job_ended("train", "ets", "timeout", 9.0)
    get = metrics.registry.get_sample_value
    assert get("enodo_worker_jobs_total", {"kind": "train", "model": "ets", "outcome": "ok"}) == 1
    assert get("enodo_worker_job_duration_seconds_sum", {"kind": "train", "model": "ets"}) == 11
    assert get("enodo_worker_model_fit_seconds_count", {"kind": "train", "model": "ets"}) == 1


def test_the_listener_counts_tee_packages_and_watched_points():
    import zmq.asyncio

    from actors.listener.counter import PointCounter
    from actors.listener.hub_link import HubLink
    from actors.listener.tee import raw_name
    from actors.listener.telemetry import ListenerMetrics
    from protocol.envelope import Codec

    counter = PointCounter()
    counter.watch("a")
    metrics = ListenerMetrics()
    ctx = zmq.asyncio.Context()
    try:
        link = HubLink(ctx, "tcp://127.0.0.1:1", Codec("l"), counter, client_id="l",
                       version="t", metrics=metrics)
        metrics.watch(link)
        link.on_counts({raw_name("a"): 5, raw_name("unwatched"): 7})
        link.on_counts({raw_name("a"): 2})
    finally:
        ctx.term()
    get = metrics.registry.get_sample_value
    assert get("enodo_listener_tee_packages_total") == 2
    assert get("enodo_listener_points_total") == 7
    assert get("enodo_listener_pending_points") == 7
    assert get("enodo_listener_watched_series") == 1
    assert get("enodo_listener_hub_connected") == 0
