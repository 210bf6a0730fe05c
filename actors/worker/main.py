"""enodo-worker: pulls jobs from the hub, runs models on SiriDB series, pushes results."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import zmq
from prometheus_client import REGISTRY

from actors.common.auth import token_source, warn_exposed_secrets
from actors.common.blas import one_blas_thread
from actors.common.config import Config, ConfigError
from actors.common.curve_keys import client_curve
from actors.common.logs import setup_logging
from actors.common.telemetry import keep_values_in_process, serve_metrics
from actors.common.version import software_version
from actors.worker.config import load_worker_config, resolve_identity, siridb_settings
from actors.worker.loop import Worker, WorkerSettings
from actors.worker.runner import ChildConfig, ModelRunner
from actors.worker.telemetry import WorkerMetrics, metrics_port
from protocol.envelope import Codec
from protocol.errors import TransportError

log = logging.getLogger("enodo.worker")




def hub_addresses(config: Config) -> dict[str, str]:
    """Return the tcp:// address of each hub socket the worker connects to."""
    host = config.get("worker", "hub_host")
    return {
        name: f"tcp://{host}:{config.get('worker', name + '_port')}"
        for name in ("control", "results")
    }


def build(config: Config, worker_id: str, ctx: zmq.Context,
          metrics: WorkerMetrics | None = None) -> Worker:
    """Create the worker (sockets, hub link, model runner) from a config."""
    section = config.section("worker")
    reader, writer = siridb_settings(config)
    child = ChildConfig(
        reader=reader, writer=writer, chunk_points=section["read_chunk_points"],
        siridb_timeout=section["siridb_timeout"], log_level=section["log_level"],
    )
    settings = WorkerSettings(
        worker_id=worker_id, version=software_version(), addresses=hub_addresses(config),
        token=token_source(config, "worker"), heartbeat_interval=section["heartbeat_interval"],
        liveness=section["liveness"], reconnect_min=section["reconnect_min"],
        reconnect_max=section["reconnect_max"], shutdown_grace=section["shutdown_grace"],
        job_credit=section["job_credit"],
        curve=client_curve(
            "worker", section["curve_server_key"], section["curve_server_key_file"]
        ),
    )
    codec = Codec(
        sender=worker_id, key=section["signing_key"].encode() or None,
        max_size=section["max_message_size"],
    )
    start_timeout = section["child_start_timeout"]
    return Worker(settings, codec, lambda poller: ModelRunner(child, poller, start_timeout), ctx,
                  metrics=metrics)


def main(argv: list[str] | None = None) -> int:
    """Run one worker until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="enodo-worker", description=__doc__)
    parser.add_argument("--config", help="INI file (default: built-in defaults)")
    parser.add_argument(
        "--id", dest="id_suffix", metavar="N",
        help="suffix making this process's id distinct, e.g. supervisord's %%(process_num)s",
    )
    args = parser.parse_args(argv)
    one_blas_thread()  # the model child inherits it
    try:
        config = load_worker_config(args.config)
        identity = resolve_identity(
            config.get("worker", "worker_id"), args.id_suffix, config.get("worker", "state_dir")
        )
    except ConfigError as exc:
        print(f"enodo-worker: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.get("worker", "log_level"), "enodo-worker")
    warn_exposed_secrets(config, log.warning)
    ctx = zmq.Context()
    try:
        # The default registry: it carries the process collector (CPU, memory, fds) too.
        keep_values_in_process()
        worker = build(config, identity.worker_id, ctx, WorkerMetrics(REGISTRY))
    except ConfigError as exc:
        log.error("config error: %s", exc)
        identity.release()
        return 2
    except TransportError as exc:
        log.error("cannot start: %s", exc)
        identity.release()
        return 1
    signal.set_wakeup_fd(worker.wakeup_fd, warn_on_full_buffer=False)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    worker.metrics.watch(worker.link)
    serve_metrics(worker.metrics.registry, config.get("worker", "metrics_host"),
                  metrics_port(config.get("worker", "metrics_port"), args.id_suffix),
                  "worker.metrics_port", log)
    log.info("worker %s connecting to %s", identity.worker_id, hub_addresses(config))
    try:
        worker.run()
    finally:
        worker.runner.stop(grace=0.0)  # already done after a clean stop; not after a failure
        signal.set_wakeup_fd(-1)
        worker.close_wakeup()
        ctx.destroy(linger=0)  # sockets a failure left open must not block the exit
        identity.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
