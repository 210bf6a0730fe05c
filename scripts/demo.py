"""The `make run` demo: load history into SiriDB, watch it with Enodo, keep inserting points.

Runs under supervisord next to the stack. It waits for SiriDB and the hub, loads the
history unless SiriDB already has it (the real Mauna Loa CO2 data set, and a week of four
synthetic sensors), points SiriDB's tee at the listener, registers the series with the
hub, prints where to look and the planted incidents, then inserts a new point of each
sensor every --interval seconds (10 simulated minutes) through SiriDB's ordinary insert
path until stopped. See scripts/demo_data.py for the sensors and their incidents.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from actors.common.config import Config
from actors.common.siridb_queries import quote
from api.config import hub_client_from_config, load_api_config
from api.hub_client import HubClient, HubError
from scripts.demo_alerts import start_receiver
from scripts.demo_data import (
    RULES,
    SENSOR_BASE_MS,
    SENSOR_HISTORY,
    SENSORS,
    STEP_MS,
    co2_points,
    incident_at,
    schedule,
    sensor_points,
    sensor_stream,
)

log = logging.getLogger("enodo.demo")

CO2 = "demo.co2"


async def wait_for_siridb(args: argparse.Namespace):  # noqa: ANN201 - SiriDBClient
    """Connect to SiriDB, retrying until it answers (it may still be starting)."""
    from siridb.connector import SiriDBClient

    for attempt in itertools.count():
        client = SiriDBClient(args.user, args.password, args.database,
                              [(args.siridb_host, args.siridb_port)], keepalive=True)
        try:
            await asyncio.wait_for(client.connect(), 5)
            await client.query("show time_precision")
            return client
        except Exception as exc:  # noqa: BLE001 - retried: SiriDB may be starting
            client.close()
            if attempt % 10 == 0:
                log.info("waiting for SiriDB at %s:%s (%s)",
                         args.siridb_host, args.siridb_port, exc)
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def last_point(client, name: str) -> list | None:  # noqa: ANN001
    """The last [ts, value] of a series, or None when SiriDB does not have it."""
    result = await client.query(f"select last() from {quote(name)}")
    points = result.get(name) or []
    return points[-1] if points else None


async def load_history(client) -> dict[str, int]:  # noqa: ANN001
    """Insert the demo history unless present; return each sensor's last timestamp."""
    if await last_point(client, CO2) is None:
        co2 = co2_points()
        await client.insert({CO2: co2})
        log.info("loaded %d weekly CO2 points (1958-2001) as history", len(co2))
    last = {}
    for sensor in SENSORS:
        if await last_point(client, sensor.name) is None:
            await client.insert({sensor.name: sensor_points(sensor, 0, SENSOR_HISTORY)})
            log.info("loaded a week of %s (%d points) as history", sensor.name, SENSOR_HISTORY)
        last[sensor.name] = (await last_point(client, sensor.name))[0]
    return last


def register(hub: HubClient) -> None:
    """Ask the hub to watch the demo series (already watched is fine)."""
    series = [(CO2, "arima", None)] + [(s.name, s.model, dict(s.anomaly)) for s in SENSORS]
    for name, model, anomaly in series:
        params = {"name": name, "model": model}
        if anomaly:
            params["anomaly"] = anomaly
        if name in RULES:
            params["rules"] = RULES[name]
        try:
            hub.request("add_series", params)
            log.info("registered %s with model %s", name, model)
        except HubError as exc:
            if exc.code != "conflict":
                raise


def wait_for_hub(hub: HubClient, stop: threading.Event) -> bool:
    """Block until the hub answers (True) or stop is set (False)."""
    for attempt in itertools.count():
        try:
            hub.request("enodo_status")
            return True
        except HubError as exc:
            if attempt % 5 == 0:
                log.info("waiting for the hub: %s", exc.message)
            # Answered at once (e.g. token not there yet): wait before asking again.
            if exc.code != "unavailable" and stop.wait(0.5):
                return False
        if stop.is_set():
            return False
    raise AssertionError("unreachable")


def banner(api_url: str, config: Config, alerts_file: Path) -> str:
    """What to try once the stack runs."""
    curl = "curl -s"
    lines = ["", "Enodo is running. The REST API is at " + api_url]
    bearer_file = config.get("api", "bearer_token_file")
    if config.get("api", "bearer_token"):
        lines.append("  (REST needs the bearer token set in api.bearer_token)")
    elif bearer_file:
        lines.append(f"  TOKEN=$(cat {bearer_file})")
        curl = 'curl -s -H "Authorization: Bearer $TOKEN"'
    login = f" (log in with the token in {bearer_file})" if bearer_file else ""
    return "\n".join([
        *lines,
        f"The console (series, charts, clients, event log, settings): {api_url}/ui/{login}",
        f"  {curl} {api_url}/series",
        f"  {curl} {api_url}/series/{CO2}/forecast",
        f"  {curl} {api_url}/series/demo.cpu/anomalies",
        f"  {curl} {api_url}/series/demo.cpu       # rule_states: when the forecast "
        "passes 50 %; analysis",
        "  .venv/bin/enodo-client anomalies demo.cpu      # the same, as a table",
        "  .venv/bin/enodo-client watch                   # every change, one line each",
        f"Series: {CO2} (real Mauna Loa data, history only) and four sensors, one point every "
        f"{STEP_MS // 60000} simulated minutes:",
        *(f"  {s.name:<17} {s.unit:<5} model {s.model}" for s in SENSORS),
        schedule(),
        "Enodo should report those incidents and stay quiet otherwise: `planted:` lines say",
        "what the demo did, `found:` lines what Enodo reported, `alert:` lines the alerts its",
        f"webhook output delivered to the demo's receiver (each kept in {alerts_file}).",
        "Ctrl-C stops all.",
        "",
    ])


def _when(ts_ms: int) -> str:
    return datetime.datetime.fromtimestamp(ts_ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M")


#: Ticks between looks at what Enodo found (a few hub requests each time).
REPORT_EVERY = 10


class FoundReporter:
    """Prints each anomaly event Enodo opens or closes, next to the demo's `planted:` lines."""

    def __init__(self, hub: HubClient) -> None:
        self.hub = hub
        self.seen: dict[tuple[str, int], str] = {}

    def lines(self) -> list[str]:
        """The events new or changed since the last call (hub errors: nothing, said once)."""
        out = []
        for sensor in SENSORS:
            try:
                data = self.hub.request("get_anomalies", {"name": sensor.name, "limit": 20})
            except HubError as exc:
                log.warning("cannot ask the hub for anomalies: %s", exc.message)
                return out
            for event in data.get("events", []):
                key = (sensor.name, event["id"])
                if self.seen.get(key) == event["state"]:
                    continue
                # An event can open and close within one forecast job: new is new either way.
                what = "closed" if key in self.seen else f"found ({event['state']})"
                self.seen[key] = event["state"]
                out.append(f"found:   {sensor.name} anomaly event {what}, started "
                           f"{_when(event['start'])}, {event['points']} points, peak score "
                           f"{event['peak']:.1f}")
        return out


async def feed(
    client,  # noqa: ANN001 - a SiriDBClient
    last: dict[str, int], interval: float, stop: asyncio.Event,
    reporter: FoundReporter | None = None,
) -> None:
    """Insert one new point of each sensor every interval seconds until stop is set."""
    streams = {s.name: sensor_stream(s, last[s.name]) for s in SENSORS}
    loop = asyncio.get_running_loop()
    inserted = 0
    ticks = 0
    while not stop.is_set():
        ticks += 1
        if reporter is not None and ticks % REPORT_EVERY == 0:
            for line in await loop.run_in_executor(None, reporter.lines):
                print(line, flush=True)
        batch = {name: [next(stream)] for name, stream in streams.items()}
        await client.insert(batch)
        for name, [[ts, _]] in batch.items():
            incident = incident_at((ts - SENSOR_BASE_MS) // STEP_MS)
            if incident is not None and incident.series == name:
                print(f"planted: {name} {incident.kind} at {_when(ts)} ({incident.what})",
                      flush=True)
        inserted += len(batch)
        if inserted % 1000 < len(batch):
            log.info("inserted %d new points", inserted)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


async def run(args: argparse.Namespace) -> int:
    """Load, register, then feed until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    stopped = threading.Event()  # the same, for the thread waiting on the hub
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: (stop.set(), stopped.set()))
    client = await first_of(wait_for_siridb(args), stop)
    if client is None:
        return 0
    try:
        last = await load_history(client)
        await client.query(f"alter database set tee '{args.tee}'")
        config = load_api_config()  # the API's token, signing key and CURVE settings
        hub = hub_client_from_config(config)
        if args.hub_api:
            hub.address = args.hub_api
        if not await loop.run_in_executor(None, wait_for_hub, hub, stopped):
            return 0
        await loop.run_in_executor(None, register, hub)
        receiver = await loop.run_in_executor(None, start_receiver, hub, args.alerts_file)
        print(banner(args.api_url, config, args.alerts_file), flush=True)
        # Its own client with a short timeout: a hub stopping with the stack must not hold
        # the demo's Ctrl-C for api.timeout.
        reporter_hub = hub_client_from_config(config)
        reporter_hub.address, reporter_hub.timeout = hub.address, min(1.0, hub.timeout)
        reporter = FoundReporter(reporter_hub)
        await loop.run_in_executor(None, reporter.lines)  # events of earlier runs: not news
        await feed(client, last, args.interval, stop, reporter)
        receiver.stop()
    finally:
        client.close()
    return 0


async def first_of(work, stop: asyncio.Event):  # noqa: ANN001, ANN201 - any awaitable
    """The result of work, or None when stop is set first (work is cancelled)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point: python -m scripts.demo."""
    parser = argparse.ArgumentParser(prog="enodo-demo", description=__doc__)
    parser.add_argument("--siridb-host", default="127.0.0.1")
    parser.add_argument("--siridb-port", type=int, default=9000)
    parser.add_argument("--user", default="iris")
    parser.add_argument("--password", default="siri")
    parser.add_argument("--database", default="enodo")
    parser.add_argument("--tee", default="127.0.0.1:9104", help="the listener's tee address")
    parser.add_argument("--hub-api", default=None,
                        help="the hub's api socket (default: api.hub_address of the API config)")
    parser.add_argument("--api-url", default="http://127.0.0.1:8000")
    parser.add_argument("--alerts-file", type=Path, default=Path(
        os.environ.get("ENODO_RUN_DIR", ".enodo")) / "alerts-received.jsonl",
        help="where the demo's alert receiver writes each alert (one JSON line each)")
    parser.add_argument("--interval", type=float, default=0.5,
                        help="seconds between inserts (each is 10 simulated minutes)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s enodo-demo %(levelname)s: %(message)s")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
