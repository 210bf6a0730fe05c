"""Prometheus metrics: the /metrics endpoint each actor serves, and its config options.

Each actor (hub, listener, every worker, the REST API) serves its own metrics on a port of
its own, bound to loopback by default: Prometheus pulls from each (docs/design.md,
"Metrics"). Metric objects live in one module per actor (`telemetry.py`), registered in a
registry handed in, so that tests use a fresh registry each.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server, values

from actors.common.config import Option, port

#: Buckets for work measured in seconds, from a fast hub turn to a long model fit.
SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def keep_values_in_process() -> None:
    """Hold this process's metric values in memory, whatever the environment says.

    prometheus_client writes values into files when PROMETHEUS_MULTIPROC_DIR is set (gunicorn's
    config sets it for the REST API). An actor is one process serving its own registry: an
    inherited folder would make another program serve the actor's values as its own (the API
    once showed the listener's points). Called by each actor's main() before any metric.
    """
    for name in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"):
        os.environ.pop(name, None)
    values.ValueClass = values.MutexValue


def metrics_options(section: str, default_port: int, port_note: str = "") -> list[Option]:
    """The `metrics_host` and `metrics_port` keys of an actor's section (port 0: off)."""
    return [
        Option(section, "metrics_host", str, "127.0.0.1",
               doc="address of Prometheus' /metrics (docs/grafana.md)"),
        Option(section, "metrics_port", int, default_port, port,
               doc="port of /metrics (0: not served; a port taken is logged, the work goes on)"
               + port_note),
    ]


def serve_metrics(
    registry: CollectorRegistry, host: str, port_number: int, key: str,
    log: logging.Logger, starter: Callable[..., Any] = start_http_server,
) -> str | None:
    """Serve registry on http://host:port/metrics from a thread; return the URL, or None.

    A port taken does not stop the actor: metrics are for watching the work, and losing
    them must not stop the work (Prometheus shows the target down). `make run` checks every
    port before it starts anything, so there the error is caught earlier.
    """
    if port_number == 0:
        log.info("metrics not served (%s is 0)", key)
        return None
    try:
        starter(port_number, addr=host, registry=registry)
    except OSError as exc:
        log.error("metrics not served on %s:%d (%s): %s", host, port_number, key, exc)
        return None
    url = f"http://{host}:{port_number}/metrics"
    log.info("metrics on %s", url)
    return url
