"""REST throughput and latency of GET /series/{name}: the API through the hub vs bare Falcon.

    python bench/rest_bench.py [--requests 4000] [--clients 4] [--workers 2] [--rounds 3]
                               [--hub auto|real|stub]

Both apps run under the same gunicorn settings (configs/gunicorn.conf.py) at the
same time; the load comes from several processes, each with one keep-alive
http.client connection and a fixed share of the requests, in rounds alternating
between the two servers; each figure is the median round. The worker class is the
shipped one (gevent: connections are kept alive) unless ENODO_API_WORKER_CLASS says
otherwise (sync workers close the connection after each response, so http.client
reconnects per request).
The hub is a real `enodo-hub` when actors.hub.main exists (--hub auto), else the
in-test ROUTER stub; the output says which.
Goal: API req/s >= 0.5 x bare Falcon req/s.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import falcon  # noqa: E402
import ujson  # noqa: E402

from actors.common.auth import TokenSource  # noqa: E402
from api.hub_client import HubClient, HubError  # noqa: E402
from tests.api.gunicorn_proc import Gunicorn  # noqa: E402
from tests.api.stub_hub import StubHub, api_handler, series_actions  # noqa: E402

SERIES = "bench/series 1"
GOAL = 0.5


def bare_app() -> falcon.App:
    """A trivial Falcon app serving BENCH_BODY (JSON) under /series/ (gunicorn factory)."""
    body = ujson.loads(os.environ.get("BENCH_BODY", "{}"))

    def canned(req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = body

    app = falcon.App()
    app.add_sink(canned, "/series/")  # a sink: the name may hold a decoded "/"
    return app


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


class RealHub:
    """enodo-hub in a subprocess on free loopback ports with a throw-away data dir."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="enodo-bench-")
        control, results, api = _free_ports(3)
        self.address = f"tcp://127.0.0.1:{api}"
        conf = Path(self.tmp.name) / "hub.conf"
        conf.write_text(
            f"[hub]\ncontrol_port = {control}\nresults_port = {results}\n"
            f"api_port = {api}\ndata_dir = {self.tmp.name}/data\nlog_level = WARNING\n"
            "[siridb]\nhost =\n"
        )
        cmd = [sys.executable, "-m", "actors.hub.main", "--config", str(conf)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT)
        # The hub writes its token there on start; the API reads it (ENODO_API_TOKEN_FILE).
        self.env = {"ENODO_API_TOKEN_FILE": f"{self.tmp.name}/data/token"}
        token = TokenSource("", self.env["ENODO_API_TOKEN_FILE"])
        client = HubClient(self.address, timeout=0.5, token=token)
        deadline = time.monotonic() + 20
        token_file = Path(self.env["ENODO_API_TOKEN_FILE"])
        try:
            while True:
                if not token_file.exists():  # asking before it is written only logs refusals
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("enodo-hub did not start")
                    time.sleep(0.05)
                    continue
                try:
                    client.request("enodo_status")
                    break
                except HubError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("enodo-hub did not start") from None
        finally:
            client.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.tmp.cleanup()


class Stub:
    """The in-test ROUTER stub answering API_REQUESTs from a dict."""

    def __init__(self) -> None:
        self.stub = StubHub(api_handler(series_actions({}))).start()
        self.address = self.stub.endpoint
        self.env: dict[str, str] = {}

    def stop(self) -> None:
        self.stub.stop()


def _load(port: int, path: str, count: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("GET", path, headers={"Connection": "keep-alive"})
        resp = conn.getresponse()
        resp.read()
        latencies.append(time.perf_counter() - started)
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {resp.status}")
    conn.close()
    return latencies


def measure(port: int, path: str, requests: int, clients: int, pool) -> dict[str, float]:
    """Run the fixed load once; return the count, req/s and p50/p99 latency in ms."""
    share = requests // clients
    started = time.perf_counter()
    results = pool.starmap(_load, [(port, path, share)] * clients)
    elapsed = time.perf_counter() - started
    latencies = sorted(x for part in results for x in part)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def compare(api_port: int, bare_port: int, path: str, args: argparse.Namespace) -> tuple:
    """Alternate rounds on both servers (fair under a noisy machine); return the medians."""
    runs: dict[int, list[dict[str, float]]] = {api_port: [], bare_port: []}
    with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        for port in runs:  # warm-up: imports, connections, caches
            pool.starmap(_load, [(port, path, 50)] * args.clients)
        for _ in range(args.rounds):
            for port in runs:
                runs[port].append(measure(port, path, args.requests, args.clients, pool))
    return tuple(_median_run(runs[port]) for port in (api_port, bare_port))


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def _line(label: str, figures: dict[str, float]) -> str:
    return (f"{label:<28} {figures['requests']:>6} req  {figures['rps']:>8.0f} req/s  "
            f"p50 {figures['p50']:6.2f} ms  p99 {figures['p99']:6.2f} ms")


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--hub", choices=("auto", "real", "stub"), default="auto")
    args = parser.parse_args(argv)
    real = args.hub == "real" or (
        args.hub == "auto" and importlib.util.find_spec("actors.hub.main") is not None
    )
    hub = RealHub() if real else Stub()
    path = "/series/" + quote(SERIES, safe="")
    env = {"ENODO_API_HUB_ADDRESS": hub.address, **hub.env}
    try:
        with Gunicorn("api.wsgi:app", env=env, workers=args.workers) as api:
            status, _, body = api.request("POST", "/series", {"name": SERIES, "model": "arima"})
            if status != 201:
                raise RuntimeError(f"cannot add the bench series: {status} {body}")
            status, _, body = api.request("GET", path)
            bare_env = {"BENCH_BODY": ujson.dumps(body)}
            bare_server = Gunicorn("bench.rest_bench:bare_app()", bare_env, args.workers)
            with bare_server as bare:
                through_hub, plain = compare(api.port, bare.port, path, args)
    finally:
        hub.stop()

    ratio = through_hub["rps"] / plain["rps"]
    worker_class = os.environ.get("ENODO_API_WORKER_CLASS", "gevent")
    print(f"hub: {'real enodo-hub' if real else 'in-test ROUTER stub'}; gunicorn "
          f"{worker_class} workers: {args.workers}; "
          f"load: {args.clients} processes, keep-alive http.client; "
          f"response {len(ujson.dumps(body))} bytes; median of {args.rounds} alternating rounds")
    print(_line("API via hub  GET /series/{n}", through_hub))
    print(_line("bare Falcon  GET /series/{n}", plain))
    verdict = "meets" if ratio >= GOAL else "below"
    print(f"ratio API/bare: {ratio:.2f} ({verdict} the goal of >= {GOAL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
