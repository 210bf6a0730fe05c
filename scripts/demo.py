"""The `make run` demo: load history into SiriDB, watch it with Enodo, keep inserting points.

Runs under supervisord next to the stack. It waits for SiriDB and the hub, loads the
CO2 data set (and a synthetic CPU series) as history unless SiriDB already has them,
points SiriDB's tee at the listener, registers the series with the hub, prints where
to look, then inserts new points through SiriDB's ordinary insert path until stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import signal
import sys
import time
from collections.abc import Iterator

from actors.common.config import Config
from actors.common.siridb_queries import quote
from api.config import hub_client_from_config, load_api_config
from api.hub_client import HubClient, HubError
from scripts.demo_data import BASE_MS, WEEK_MS, co2_continuation, co2_points, cpu_points

log = logging.getLogger("enodo.demo")

CO2, CPU = "demo.co2", "demo.cpu"
CPU_HISTORY = 24 * 21


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


async def load_history(client) -> tuple[int, int]:  # noqa: ANN001
    """Insert the demo history unless present; return the last CO2 and CPU timestamps."""
    co2 = co2_points()
    if await last_point(client, CO2) is None:
        await client.insert({CO2: co2[:-300]})
        log.info("loaded %d weekly CO2 points as history", len(co2) - 300)
    if await last_point(client, CPU) is None:
        await client.insert({CPU: list(cpu_points(BASE_MS, CPU_HISTORY))})
        log.info("loaded %d hourly CPU points as history", CPU_HISTORY)
    co2_last, cpu_last = await last_point(client, CO2), await last_point(client, CPU)
    return co2_last[0], cpu_last[0]


def register(hub: HubClient) -> None:
    """Ask the hub to watch the demo series (already watched is fine)."""
    for name, model in ((CO2, "arima"), (CPU, "prophet")):
        try:
            hub.request("add_series", {"name": name, "model": model})
            log.info("registered %s with model %s", name, model)
        except HubError as exc:
            if exc.code != "conflict":
                raise


def wait_for_hub(hub: HubClient) -> None:
    """Block until the hub answers."""
    for attempt in itertools.count():
        try:
            hub.request("enodo_status")
            return
        except HubError as exc:
            if attempt % 5 == 0:
                log.info("waiting for the hub: %s", exc.message)
            if exc.code != "unavailable":  # answered at once (e.g. token not there yet)
                time.sleep(0.5)


def banner(api_url: str, config: Config) -> str:
    """What to try once the stack runs."""
    curl = "curl -s"
    lines = ["", "Enodo is running. The REST API is at " + api_url]
    bearer_file = config.get("api", "bearer_token_file")
    if config.get("api", "bearer_token"):
        lines.append("  (REST needs the bearer token set in api.bearer_token)")
    elif bearer_file:
        lines.append(f"  TOKEN=$(cat {bearer_file})")
        curl = 'curl -s -H "Authorization: Bearer $TOKEN"'
    return "\n".join([
        *lines,
        f"  {curl} {api_url}/series",
        f"  {curl} {api_url}/series/{CO2}/forecast",
        f"  (also /series/{CPU}, /enodo/status, /enodo/log, /siridb/status; Ctrl-C stops all)",
        "",
    ])


def co2_stream(after_ts: int) -> Iterator[list]:
    """CO2 points after after_ts: the held-back end of the data set, then its continuation."""
    data = co2_points()
    tail = co2_continuation([v for _, v in data], data[-1][0] + WEEK_MS)
    return (p for p in itertools.chain(data, tail) if p[0] > after_ts)


def cpu_stream(after_ts: int) -> Iterator[list]:
    """CPU points after after_ts."""
    return (p for p in cpu_points(BASE_MS, 10**12) if p[0] > after_ts)


async def feed(
    client,  # noqa: ANN001 - a SiriDBClient
    co2_last: int, cpu_last: int, interval: float, stop: asyncio.Event
) -> None:
    """Insert a new CO2 and CPU point every interval seconds until stop is set."""
    co2, cpu = co2_stream(co2_last), cpu_stream(cpu_last)
    inserted = 0
    while not stop.is_set():
        await client.insert({CO2: [next(co2)], CPU: [next(cpu)]})
        inserted += 2
        if inserted % 400 == 0:
            log.info("inserted %d new points", inserted)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


async def run(args: argparse.Namespace) -> int:
    """Load, register, then feed until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    client = await wait_for_siridb(args)
    co2_last, cpu_last = await load_history(client)
    await client.query(f"alter database set tee '{args.tee}'")
    config = load_api_config()  # the API's token, signing key and CURVE settings
    hub = hub_client_from_config(config)
    if args.hub_api:
        hub.address = args.hub_api
    await loop.run_in_executor(None, wait_for_hub, hub)
    await loop.run_in_executor(None, register, hub)
    print(banner(args.api_url, config), flush=True)
    await feed(client, co2_last, cpu_last, args.interval, stop)
    client.close()
    return 0


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
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between inserts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s enodo-demo %(levelname)s: %(message)s")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
