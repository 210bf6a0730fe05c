"""gunicorn settings for the Enodo REST API: `gunicorn -c configs/gunicorn.conf.py api.wsgi:app`.

Environment overrides: ENODO_API_BIND (default 127.0.0.1:8000), ENODO_API_WORKERS
(default 2), ENODO_API_WORKER_CLASS (default gevent), ENODO_API_WORKER_CONNECTIONS (default
1000 per worker), ENODO_API_KEEPALIVE (seconds, default 5: with gevent also the longest a
client may take to send a request's line and headers), ENODO_API_WORKER_TIMEOUT (seconds,
default 30; keep it above the hub timeout, api.timeout), ENODO_API_LOG_LEVEL (default
info), ENODO_API_ACCESS_LOG (a path, `-` for stdout (default) or `off`),
ENODO_API_METRICS_BIND (Prometheus' /metrics, served by the master for all workers; default
127.0.0.1:9122, `off`), ENODO_API_METRICS_DIR (the workers' metric files; default a fresh
temporary folder). The API's own options (hub address, timeout, signing key) are in
configs/api.conf.

Why gevent (docs/design.md, "REST API and slow clients"): a sync worker is held by one
connection until its request has arrived, so two clients sending their headers slowly stopped
the API for 30 s at a time; gthread hands such a client a thread that blocks reading its
headers. Under gevent a connection costs a greenlet, and each request's headers must arrive
within `keepalive` seconds or the connection is closed.
"""

import os

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from api import metrics_files

# Before anything imports prometheus_client: with PROMETHEUS_MULTIPROC_DIR set, each worker
# counts into files there and the master serves their sum (when_ready).
_metrics_bind = metrics_files.metrics_bind(dict(os.environ))
_metrics_dir, _made_metrics_dir = None, False
if _metrics_bind is not None:
    _metrics_dir, _made_metrics_dir = metrics_files.fresh_dir(dict(os.environ))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

from api.server_edges import REQUEST_LINE_LIMIT, install_json_errors  # noqa: E402

bind = os.environ.get("ENODO_API_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("ENODO_API_WORKERS", "2"))
worker_class = os.environ.get("ENODO_API_WORKER_CLASS", "gevent")
# Open connections per worker (slow ones included); beyond it the worker stops accepting.
worker_connections = int(os.environ.get("ENODO_API_WORKER_CONNECTIONS", "1000"))
# A request waits at most api.timeout (5 s) for the hub; a worker silent this long is stuck.
timeout = int(os.environ.get("ENODO_API_WORKER_TIMEOUT", "30"))
graceful_timeout = 10
# gevent: the idle time allowed between requests and the time allowed for a request's line
# and headers (gunicorn's base_async worker reads them under gevent.Timeout(keepalive)).
keepalive = int(os.environ.get("ENODO_API_KEEPALIVE", "5"))
# Sockets must be created after the fork: never preload the app into the master.
preload_app = False
loglevel = os.environ.get("ENODO_API_LOG_LEVEL", "info")
_access = os.environ.get("ENODO_API_ACCESS_LOG", "-")
accesslog = None if _access.lower() in ("", "off") else _access
# Names in URLs may be long (see api/server_edges.py): POST /series refuses a name whose
# URL would not fit this, so every name added can be read and deleted again.
limit_request_line = REQUEST_LINE_LIMIT
# gunicorn's own errors (request line too long, bad headers) in the API's JSON shape;
# patched here, in the master, so every forked worker has it whatever its class.
install_json_errors()
errorlog = "-"
proc_name = "enodo-api"


def on_starting(server: Arbiter) -> None:
    """Check the API's config once in the master, so a bad key stops the start with its name."""
    from actors.common.auth import warn_exposed_secrets
    from actors.common.config import ConfigError
    from api.config import (
        hub_client_from_config,
        load_api_config,
        read_bearer_from_config,
        wait_for_hub_key,
    )

    try:
        config = load_api_config()
        wait_for_hub_key(config, lambda text: server.log.info("enodo-api: %s", text))
        hub_client_from_config(config)  # CURVE key files are read here
        read_bearer_from_config(config)
    except ConfigError as exc:
        server.log.error("enodo-api: config error: %s", exc)
        raise SystemExit(2) from None
    warn_exposed_secrets(config, lambda text: server.log.warning("enodo-api: %s", text))


def when_ready(server: Arbiter) -> None:
    """Serve the workers' summed metrics from the master, on a port of its own."""
    if _metrics_bind is not None:
        metrics_files.serve(*_metrics_bind, server.log.info)


def child_exit(server: Arbiter, worker: Worker) -> None:
    """A worker ended: its live gauges go (multiprocess mode's mark_process_dead)."""
    if _metrics_bind is not None:
        metrics_files.worker_exited(worker.pid)


def on_exit(server: Arbiter) -> None:
    """Remove the metric files' folder this run made."""
    if _made_metrics_dir and _metrics_dir:
        metrics_files.remove_dir(_metrics_dir)
