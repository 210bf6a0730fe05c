"""enodo-listener: reads SiriDB's tee, counts new points per watched series, tells the hub."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

import zmq.asyncio
from prometheus_client import REGISTRY

from actors.common.auth import token_source, warn_exposed_secrets
from actors.common.config import Config, ConfigError
from actors.common.curve_keys import client_curve
from actors.common.logs import setup_logging
from actors.common.telemetry import keep_values_in_process, serve_metrics
from actors.common.version import software_version
from actors.listener.config import (
    default_client_id,
    load_listener_config,
    tee_limits_from_config,
)
from actors.listener.counter import PointCounter
from actors.listener.discovery import Discovery
from actors.listener.hub_link import HubLink
from actors.listener.tee_server import TeeServer, TeeServerError
from actors.listener.telemetry import ListenerMetrics
from protocol.envelope import Codec

log = logging.getLogger("enodo.listener")


async def serve(config: Config) -> int:
    """Run the tee server and the hub session until SIGTERM/SIGINT."""
    opts = config.section("listener")
    limits = tee_limits_from_config(config)  # before any socket: a bad limit stops the start
    client_id = opts["client_id"] or default_client_id()
    curve = client_curve("listener", opts["curve_server_key"], opts["curve_server_key_file"])
    ctx = zmq.asyncio.Context()
    discovery = Discovery(opts["discovery_memory"])  # the tee's matches of the hub's patterns
    counter = PointCounter(discovery)
    keep_values_in_process()
    link = HubLink(
        ctx,
        f"tcp://{opts['hub_host']}:{opts['control_port']}",
        Codec(client_id, opts["signing_key"].encode() or None, opts["max_message_size"]),
        counter,
        client_id=client_id,
        version=software_version(),
        token=token_source(config, "listener"),
        update_interval=opts["update_interval"],
        curve=curve,
        metrics=ListenerMetrics(REGISTRY),  # the default one carries the process collector
        discovery=discovery,
    )
    link.metrics.watch(link)
    tee = TeeServer(
        link.on_counts,
        decode=counter.count_watched,
        host=opts["tee_host"] or None,
        port=opts["tee_port"],
        unix_path=opts["tee_unix_path"] or None,
        limits=limits,
    )
    try:
        await tee.start()
    except TeeServerError as exc:
        log.error("cannot serve the tee: %s", exc)
        ctx.term()
        return 1
    serve_metrics(link.metrics.registry, opts["metrics_host"], opts["metrics_port"],
                  "listener.metrics_port", log)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, link.stop)
    log.info(
        "listener %s: tee on %s:%s%s, hub at %s",
        client_id,
        opts["tee_host"],
        tee.port,
        f" and {opts['tee_unix_path']}" if opts["tee_unix_path"] else "",
        link.address,
    )
    try:
        await link.run()
    finally:
        await tee.close()
        ctx.term()
    log.info("listener stopped (%d points delivered)", link.sent_points)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of enodo-listener."""
    parser = argparse.ArgumentParser(prog="enodo-listener", description=__doc__)
    parser.add_argument("--config", help="INI file (default: built-in defaults)")
    args = parser.parse_args(argv)
    try:
        config = load_listener_config(args.config)
    except ConfigError as exc:
        print(f"enodo-listener: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.get("listener", "log_level"), "enodo-listener")
    warn_exposed_secrets(config, log.warning)
    try:
        return asyncio.run(serve(config))
    except ConfigError as exc:
        log.error("config error: %s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
