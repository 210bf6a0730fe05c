"""Watch by pattern at scale: time to watch every match, and the hub's loop turns meanwhile.

    python -m bench.patterns [--series 100000] [--others 10000] [--list-limit 10000]

A development SiriDB gets --series series matching `/bench\\.cpu\\..*/` (one point each)
and --others that do not; its list_limit is set to --list-limit. A real hub (its `build()`,
run on a thread of this process, with its own SiriDB link to that server, a throw-away
data_dir, random loopback ports) is asked over its control socket, as enodo-client asks,
to add the pattern; the clock runs from that request until `get_pattern` says every match
is watched. Printed: that time, series per second, the hub's
loop turns meanwhile (count, p50, p99, max: the work of a turn, as the
enodo_hub_loop_turn_seconds histogram times it) and the slowest `enodo_status` round trip
seen by a client asking every 50 ms (what a peer or the REST API waits at worst).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import threading
import time
from typing import Any

import zmq
from siridb.connector import SiriDBClient

from actors.hub.config import load_hub_config
from actors.hub.main import build
from scripts.client_session import ClientSession
from scripts.siridb_dev.testing import DevServer

PATTERN = "/bench\\.cpu\\..*/"


class Turns:
    """Stands in for the loop-turn histogram: keeps every observation."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def observe(self, value: float) -> None:
        self.seconds.append(value)


def load_siridb(port: int, series: int, others: int, list_limit: int) -> float:
    """Insert the series (10,000 per request); return the seconds it took."""
    async def run() -> None:
        client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)], timeout=120)
        await client.connect()
        try:
            names = [f"bench.cpu.{i:07d}" for i in range(series)]
            names += [f"bench.mem.{i:07d}" for i in range(others)]
            for start in range(0, len(names), 10_000):
                await client.insert({n: [[1_700_000_000_000, 1]]
                                     for n in names[start:start + 10_000]})
            await client.query(f"alter database set list_limit {list_limit}")
        finally:
            client.close()

    started = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - started


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_hub(data_dir: str, siridb_port: int) -> tuple[Any, Any, Turns, dict[str, int]]:
    ports = {name: free_port() for name in ("control", "results", "api")}
    os.environ.update({
        "ENODO_HUB_DATA_DIR": data_dir, "ENODO_HUB_METRICS_PORT": "0",
        "ENODO_HUB_LOG_LEVEL": "WARNING", "ENODO_SIRIDB_HOST": "127.0.0.1",
        "ENODO_SIRIDB_PORT": str(siridb_port), "ENODO_SIRIDB_DATABASE": "dbtest",
        **{f"ENODO_HUB_{name.upper()}_PORT": str(port) for name, port in ports.items()},
    })
    server, link = build(load_hub_config(None), zmq.Context())
    turns = Turns()
    server.state.metrics.loop_turn = turns
    link.start()
    return server, link, turns, ports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=10_000)
    parser.add_argument("--list-limit", type=int, default=10_000)
    args = parser.parse_args()
    # The hub's SiriDB link is stopped with count queries in flight: not worth a traceback.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    with DevServer(dbname="dbtest") as db, tempfile.TemporaryDirectory() as data_dir:
        loaded = load_siridb(db.port, args.series, args.others, args.list_limit)
        print(f"SiriDB loaded with {args.series} matching and {args.others} other series "
              f"in {loaded:.1f} s (list_limit {args.list_limit})")
        server, link, turns, ports = start_hub(data_dir, db.port)
        loop = threading.Thread(target=server.run, name="hub-loop", daemon=True)
        loop.start()
        token = open(os.path.join(data_dir, "token"), encoding="utf-8").read().strip()
        client = ClientSession(f"tcp://127.0.0.1:{ports['control']}", "bench",
                               version="bench", token=token, timeout=30)
        client.connect()
        worst_status = 0.0
        try:
            turns.seconds.clear()
            started = time.perf_counter()
            info = client.request("add_pattern", {"pattern": PATTERN,
                                                  "template": {"model": "ets"}})
            last_print = started
            while info["series"] < args.series:
                asked = time.perf_counter()
                client.request("enodo_status")
                worst_status = max(worst_status, time.perf_counter() - asked)
                info = client.request("get_pattern", {"id": info["id"]})
                if time.perf_counter() - last_print > 5:
                    last_print = time.perf_counter()
                    print(f"  {last_print - started:5.1f} s: {info['series']} watched, "
                          f"{info['pending']} waiting, listed {info['listed']}")
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            client.close()
            server.stop()
            loop.join(30)
            link.stop()
            server.state.store.close()
        seconds = sorted(turns.seconds)
        p50 = statistics.median(seconds)
        p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))]
        print(f"watched {args.series} series of pattern {PATTERN} in {elapsed:.1f} s "
              f"({args.series / elapsed:.0f} series/s)")
        print(f"hub loop turns meanwhile: {len(seconds)}, p50 {p50 * 1000:.2f} ms, "
              f"p99 {p99 * 1000:.2f} ms, max {seconds[-1] * 1000:.1f} ms; slowest "
              f"enodo_status round trip {worst_status * 1000:.1f} ms")


if __name__ == "__main__":
    main()
