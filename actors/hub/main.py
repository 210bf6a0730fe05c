"""enodo-hub: the coordinator process."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable

import zmq
from prometheus_client import REGISTRY

from actors.common.auth import hub_token, warn_exposed_secrets
from actors.common.config import Config, ConfigError
from actors.common.curve_keys import hub_curve
from actors.common.logs import repeat_limit, setup_logging
from actors.common.telemetry import keep_values_in_process, serve_metrics
from actors.common.version import software_version
from actors.hub.alert_book import AlertBook
from actors.hub.config import load_hub_config
from actors.hub.datadir import DataDirBusy, DataDirLock
from actors.hub.memory import give_back_large_blocks
from actors.hub.pattern_watch import PatternWatcher
from actors.hub.server import HubServer
from actors.hub.siridb_link import SiriDBLink
from actors.hub.staleness import StaleWatch
from actors.hub.state import HubState
from actors.hub.store import Store
from actors.hub.system_alerts import SystemWatch
from actors.hub.telemetry import HubMetrics
from protocol.envelope import Codec
from protocol.errors import TransportError

log = logging.getLogger("enodo.hub")


def addresses(config: Config) -> dict[str, str]:
    """Return the bind address of each hub socket."""
    host = config.get("hub", "bind_host")
    return {
        name: f"tcp://{host}:{config.get('hub', name + '_port')}"
        for name in ("control", "api", "results")
    }


def build(config: Config, ctx: zmq.Context, metrics: HubMetrics | None = None,
          ) -> tuple[HubServer, SiriDBLink]:
    """Create the SiriDB link, store, state (with its scheduler) and server from a config.

    Raises ConfigError when the token or the CURVE keys cannot be read or made.
    """
    hub = config.section("hub")
    token, token_path = hub_token(hub["token"], hub["token_file"], hub["data_dir"])
    curve, public_cert = hub_curve(
        hub["curve"], hub["curve_secret_key"], hub["curve_secret_key_file"], hub["data_dir"]
    )
    metrics = metrics or HubMetrics()
    # Each answer of the link's thread wakes the loop through this socket.
    wakeup = "inproc://siridb-link"
    link = SiriDBLink(config.section("siridb"), hub["siridb_check_interval"], ctx, wakeup,
                      metrics)
    store = Store(hub["data_dir"])
    alerts = AlertBook(store)
    state = HubState(
        store,
        heartbeat_interval=hub["heartbeat_interval"],
        liveness=hub["liveness"],
        token=token,
        version=software_version(),
        metrics=metrics,
        siridb=link,
        alerts=alerts,
    )
    codec = Codec(
        sender=f"hub-{state.hub_id}",
        key=hub["signing_key"].encode() or None,
        max_size=hub["max_message_size"],
    )
    server = HubServer(state, codec, addresses(config), ctx, curve=curve,
                       control_max_size=hub["control_max_message_size"])
    log.info(
        "peers must present the token %s%s%s",
        f"in {token_path}" if token_path else "set in hub.token",
        "; messages are signed" if codec.key else "",
        f"; CURVE on (public key: {public_cert or 'of hub.curve_secret_key'})" if curve else "",
    )
    metrics.watch(state)
    wake = ctx.socket(zmq.PULL)
    wake.bind(wakeup)
    watcher = PatternWatcher(state, link)

    def on_wake() -> None:
        _drain_wakeups(wake)
        state.reconciler.drain()
        watcher.drain()

    server.add_reader(wake, on_wake)
    watch = SystemWatch(state, state.scheduler.queue_age, grace=hub["alert_grace"],
                        max_queue_age=hub["alert_max_queue_age"],
                        interval=hub["alert_check_interval"])
    stale = StaleWatch(state, hub["stale_factor"], hub["stale_min_seconds"])
    server.timers += [watch.tick, alerts.tick, stale.tick, watcher.tick]
    return server, link


def _log_sweeper(sweep: Callable[[], None]) -> Callable[[float], float]:
    """A loop timer: once a second, write the counts of warnings held back.

    A kind that fell silent gets its count written even in a quiet hub, whose log would
    otherwise not see another record (which sweeps too) for a long time.
    """

    def timer(now: float) -> float:
        sweep()
        return now + 1.0

    return timer


def _drain_wakeups(sock: zmq.Socket) -> None:
    while True:
        try:
            sock.recv(zmq.NOBLOCK)
        except zmq.Again:
            return


def main(argv: list[str] | None = None) -> int:
    """Run the hub until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="enodo-hub", description=__doc__)
    parser.add_argument("--config", help="INI file (default: built-in defaults)")
    args = parser.parse_args(argv)
    try:
        config = load_hub_config(args.config)
    except ConfigError as exc:
        print(f"enodo-hub: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.get("hub", "log_level"), "enodo-hub",
                  config.get("hub", "log_repeat_burst"), config.get("hub", "log_repeat_window"))
    warn_exposed_secrets(config, log.warning)
    try:
        # Before anything touches the folder (token, keys, database): a second hub on the
        # same folder must change nothing there.
        lock = DataDirLock(config.get("hub", "data_dir"))
    except (DataDirBusy, OSError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    give_back_large_blocks()
    ctx = zmq.Context()
    try:
        # The default registry: it carries the process collector (CPU, memory, fds) too.
        keep_values_in_process()
        server, link = build(config, ctx, HubMetrics(REGISTRY))
    except ConfigError as exc:
        log.error("config error: %s", exc)
        ctx.term()
        return 2
    except TransportError as exc:
        log.error("cannot start: %s", exc)
        return 1
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.stop())
    limit = repeat_limit()
    if limit is not None:
        server.timers.append(_log_sweeper(limit.sweep))
    link.start()
    serve_metrics(server.state.metrics.registry, config.get("hub", "metrics_host"),
                  config.get("hub", "metrics_port"), "hub.metrics_port", log)
    log.info("hub %s listening: %s", server.state.hub_id, server.endpoints)
    try:
        server.run()
    finally:
        link.stop()
        server.state.store.close()
        # A loop that died of an exception left its sockets open: term() would wait for
        # them forever and the hub would hang, up but deaf, instead of exiting (and being
        # restarted by its supervisor).
        ctx.destroy(linger=0)
        lock.release()
    log.info("hub stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
