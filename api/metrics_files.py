"""gunicorn's side of the API metrics (multiprocess mode), called from configs/gunicorn.conf.py.

prometheus_client picks its file-backed values when it is first imported, so the folder is
chosen and emptied in the master before anything imports it; this module imports it only
inside its functions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

DEFAULT_BIND = "127.0.0.1:9122"


def metrics_bind(environ: dict[str, str]) -> tuple[str, int] | None:
    """(host, port) of ENODO_API_METRICS_BIND (default 127.0.0.1:9122); None when off."""
    text = environ.get("ENODO_API_METRICS_BIND", DEFAULT_BIND).strip()
    if text.lower() in ("", "off", "0"):
        return None
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"ENODO_API_METRICS_BIND must be host:port or off, not {text!r}")
    return host or "127.0.0.1", int(port)


def fresh_dir(environ: dict[str, str]) -> tuple[str, bool]:
    """The multiprocess folder, emptied (a dead run's files would add to this run's counts).

    ENODO_API_METRICS_DIR (or PROMETHEUS_MULTIPROC_DIR) names it; else a new temporary
    folder is made. Returns (path, made here).
    """
    path = environ.get("ENODO_API_METRICS_DIR") or environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return tempfile.mkdtemp(prefix="enodo-api-metrics-"), True
    os.makedirs(path, mode=0o700, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))
    return path, False


def serve(host: str, port: int, log: Callable[[str], None]) -> None:
    """Serve the sum of every worker's metrics on http://host:port/metrics (master thread)."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # the API serves on without its metrics (Prometheus: target down)
        log(f"enodo-api: metrics not served on {host}:{port} (ENODO_API_METRICS_BIND): {exc}")
        return
    log(f"enodo-api: metrics on http://{host}:{port}/metrics")


def worker_exited(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay in the sum, as they should)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def remove_dir(path: str) -> None:
    """Remove a folder fresh_dir() made, at the master's exit."""
    shutil.rmtree(path, ignore_errors=True)
