"""REST under load while the pipeline works: 50 concurrent clients for 60 s, errors and latency.

    .venv/bin/python bench/load_rest.py [--clients 50] [--duration 60] [--processes 5]
                                        [--api-workers 4] [--worker-class sync] [--threads 1]

Starts the whole stack on loopback (development SiriDB with its tee, hub, listener, two
workers, gunicorn) and a feeder that inserts points into SiriDB all along, so the series
are counted, fitted and forecast while the clients run. The clients (threads spread over
--processes processes, one keep-alive http.client connection each) mix GET /series,
GET /series/{name}, GET /series/{name}/forecast, GET /enodo/status and POST + DELETE of a
series of their own. Any answer other than the expected 2xx is an error. Prints requests/s,
p50/p99/max latency per kind and overall, and what the pipeline did meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import math
import multiprocessing
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import ujson  # noqa: E402

from api.routing import series_path  # noqa: E402
from scripts.siridb_dev.testing import DevServer  # noqa: E402
from tests.api.gunicorn_proc import Gunicorn  # noqa: E402
from tests.support.hub import HubProcess  # noqa: E402
from tests.support.listener import ListenerProcess  # noqa: E402
from tests.support.waiting import free_port, wait_for  # noqa: E402
from tests.support.worker import WorkerProcess  # noqa: E402

SERIES = [f"load/sensor {i}" for i in range(6)]
STEP = 60_000
START = 1_700_000_000_000
HISTORY = 300
#: (kind, weight): the request mix of every client.
MIX = [("list", 25), ("detail", 25), ("forecast", 25), ("status", 15), ("add+delete", 10)]


def value(series: int, i: int) -> float:
    return round(20 + 5 * math.sin(2 * math.pi * i / 60 + series) + 0.01 * i, 3)


def points(series: int, first: int, count: int) -> list[list]:
    return [[START + k * STEP, value(series, k)] for k in range(first, first + count)]


class Feeder(threading.Thread):
    """Inserts `batch` new points per series into SiriDB every `every` seconds."""

    def __init__(self, port: int, every: float = 1.0, batch: int = 5) -> None:
        super().__init__(daemon=True)
        self.port, self.every, self.batch = port, every, batch
        self.stop = threading.Event()
        self.inserted = 0
        self.next = {i: HISTORY for i in range(len(SERIES))}

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        from siridb.connector import SiriDBClient

        client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", self.port)])
        await client.connect()
        try:
            while not self.stop.is_set():
                data = {}
                for i, name in enumerate(SERIES):
                    data[name] = points(i, self.next[i], self.batch)
                    self.next[i] += self.batch
                await client.insert(data)
                self.inserted += self.batch * len(SERIES)
                await asyncio.sleep(self.every)  # the feeder's pace, not a synchronisation
        finally:
            client.close()


def client_loop(port: int, deadline: float, seed: int, out: list) -> None:
    """One client: requests from MIX on one keep-alive connection until the deadline."""
    rnd = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    own = f"load/client {seed}"
    n = 0

    def call(method: str, path: str, body: object = None) -> int:
        data = None if body is None else ujson.dumps(body)
        headers = {"Content-Type": "application/json"} if data else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()  # sync workers close after each response: reconnect next time
        return resp.status

    while time.monotonic() < deadline:
        kind = rnd.choice(kinds)
        name = rnd.choice(SERIES)
        started = time.perf_counter()
        try:
            if kind == "list":
                ok = call("GET", "/series") == 200
            elif kind == "detail":
                ok = call("GET", series_path(name)) == 200
            elif kind == "forecast":
                ok = call("GET", series_path(name) + "/forecast") == 200
            elif kind == "status":
                ok = call("GET", "/enodo/status") == 200
            else:
                n += 1
                added = call("POST", "/series", {"name": f"{own} {n}", "model": "arima"})
                ok = added == 201 and call("DELETE", series_path(f"{own} {n}")) == 200
            error = None if ok else "status"
        except (OSError, http.client.HTTPException) as exc:
            error = type(exc).__name__
            conn.close()
        out.append((kind, time.perf_counter() - started, error))
    conn.close()


def process_main(port: int, deadline: float, seeds: list[int], queue) -> None:
    """A load process: one thread per client; sends its samples back when done."""
    samples: list = []
    threads = [threading.Thread(target=client_loop, args=(port, deadline, s, samples))
               for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(samples)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def report(samples: list, duration: float) -> int:
    errors = [s for s in samples if s[2] is not None]
    print(f"\n{len(samples)} requests in {duration:.1f} s: {len(samples) / duration:.0f} req/s "
          f"(add+delete counts as one), errors: {len(errors)}")
    print(f"{'kind':<12}{'count':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind in [k for k, _ in MIX] + ["all"]:
        lat = [s[1] * 1000 for s in samples if kind in ("all", s[0])]
        if lat:
            print(f"{kind:<12}{len(lat):>8}{statistics.median(lat):>9.1f}"
                  f"{percentile(lat, 99):>9.1f}{max(lat):>9.1f}")
    if errors:
        kinds: dict = {}
        for s in errors:
            kinds[(s[0], s[2])] = kinds.get((s[0], s[2]), 0) + 1
        print("errors by kind:", kinds)
    return len(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--api-workers", type=int, default=4)
    parser.add_argument("--worker-class", default="gevent")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="enodo-load-"))
    tee_port = free_port()
    db = DevServer(dbname="dbtest", tee=f"127.0.0.1:{tee_port}").start()
    hub = HubProcess(tmp, extra={
        "ENODO_SIRIDB_HOST": "127.0.0.1", "ENODO_SIRIDB_PORT": str(db.port),
        "ENODO_SIRIDB_DATABASE": "dbtest", "ENODO_HUB_LOG_LEVEL": "INFO",
        "ENODO_HUB_HEARTBEAT_INTERVAL": "1",
    }).start()
    listener = ListenerProcess(tmp, hub.ports["control"], extra={
        "ENODO_LISTENER_TEE_PORT": str(tee_port), "ENODO_LISTENER_LOG_LEVEL": "INFO"}).start()
    workers = [WorkerProcess(tmp, hub.ports, db.port, i) for i in range(2)]
    for worker in workers:
        worker.env["ENODO_WORKER_LOG_LEVEL"] = "INFO"
        worker.start()
    env = {"ENODO_API_HUB_ADDRESS": hub.address("api"),
           "ENODO_API_WORKER_CLASS": args.worker_class,
           "GUNICORN_CMD_ARGS": f"--threads {args.threads} --backlog 2048"}
    api = Gunicorn("api.wsgi:app", env=env, workers=args.api_workers).start()
    feeder = None
    try:
        status, _, _ = api.request("POST", "/settings", {
            "min_data_points": 100, "fit_every": 20, "horizon": 12, "reconcile_interval": 5.0})
        assert status == 200
        asyncio.run(_history(db.port))
        for name in SERIES:
            assert api.request("POST", "/series", {"name": name, "model": "arima"})[0] == 201
        wait_for(lambda: api.request("GET", "/enodo/status")[2]["peers"].get("worker") == 2,
                 60, "two workers online")
        wait_for(lambda: all(api.request("GET", series_path(n))[2]["jobs"]["forecast"]["state"]
                             == "done" for n in SERIES), 120, "a first forecast of each series")
        before = api.request("GET", "/enodo/status")[2]["jobs"]
        feeder = Feeder(db.port)
        feeder.start()
        print(f"stack up: gunicorn {args.api_workers} x {args.worker_class} "
              f"(threads {args.threads}); {args.clients} clients in {args.processes} processes "
              f"for {args.duration:g} s; feeder inserts {feeder.batch} points per series "
              f"every {feeder.every:g} s into {len(SERIES)} series", flush=True)
        deadline = time.monotonic() + args.duration
        queue = multiprocessing.get_context("fork").Queue()
        seeds = list(range(args.clients))
        procs = [multiprocessing.get_context("fork").Process(
            target=process_main, args=(api.port, deadline, seeds[i::args.processes], queue))
            for i in range(args.processes)]
        started = time.monotonic()
        for proc in procs:
            proc.start()
        samples = []
        for _ in procs:
            samples.extend(queue.get(timeout=args.duration + 120))
        for proc in procs:
            proc.join(30)
        duration = time.monotonic() - started
        feeder.stop.set()
        errors = report(samples, duration)
        after = api.request("GET", "/enodo/status")[2]["jobs"]
        counted = sum(api.request("GET", series_path(n))[2]["points_counted"] for n in SERIES)
        print(f"pipeline meanwhile: {feeder.inserted} points inserted, {counted} counted via the "
              f"tee, jobs done {after['done'] - before['done']}, "
              f"failed {after['failed'] - before['failed']}")
        return 1 if errors else 0
    finally:
        if feeder is not None:
            feeder.stop.set()
        api.stop()
        for worker in workers:
            worker.stop(signal.SIGKILL)
        listener.stop(signal.SIGKILL)
        hub.stop(signal.SIGKILL)
        db.close()


async def _history(port: int) -> None:
    from siridb.connector import SiriDBClient

    client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)])
    await client.connect()
    try:
        await client.insert({name: points(i, 0, HISTORY) for i, name in enumerate(SERIES)})
    finally:
        client.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
