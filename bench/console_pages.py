"""Latency of each console page with 1,000 watched series (issue 12: goal p50 < 100 ms).

    python bench/console_pages.py [--series 1000] [--requests 200]

A real hub (enodo-hub), the development SiriDB holding 500 points of one series, and the
API under gunicorn as shipped (configs/gunicorn.conf.py, gevent). The series are added over
REST, a console session is opened with the bearer token, then each page is fetched
`--requests` times one after another on one keep-alive connection; the figures are the
p50 and p95 of each page's wall time as the client sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from siridb.connector import SiriDBClient  # noqa: E402

from scripts.siridb_dev.testing import DevServer  # noqa: E402
from tests.api.gunicorn_proc import Gunicorn  # noqa: E402
from tests.support.hub import HubProcess  # noqa: E402

TOKEN = "bench-console-token"
GOAL_MS = 100.0
CHARTED = "bench/series 0000"


def fill_siridb(port: int) -> None:
    """500 points of CHARTED, so the series page's chart reads a real history."""
    async def run() -> None:
        client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)], keepalive=True)
        await client.connect()
        try:
            start = 1_700_000_000_000
            points = [[start + i * 60_000, float(i % 60)] for i in range(500)]
            await client.insert({CHARTED: points})
        finally:
            client.close()

    asyncio.run(run())


def timed(conn: http.client.HTTPConnection, path: str, cookie: str) -> float:
    """Seconds for one GET (the body read in full); fails loudly on a non-200."""
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    resp = conn.getresponse()
    body = resp.read()
    elapsed = time.perf_counter() - started
    if resp.status != 200:
        raise SystemExit(f"GET {path}: {resp.status} {body[:200]!r}")
    return elapsed


def main() -> int:
    """Start the stack, add the series, time every page; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="enodo-console-bench-"))
    db = DevServer(dbname="dbtest").start()
    hub = HubProcess(tmp, extra={"ENODO_SIRIDB_HOST": "127.0.0.1",
                                 "ENODO_SIRIDB_PORT": str(db.port),
                                 "ENODO_SIRIDB_DATABASE": "dbtest"}).start()
    api = Gunicorn("api.wsgi:app", workers=2, env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_BEARER_TOKEN": TOKEN,
        "ENODO_API_ACCESS_LOG": "off", "ENODO_SIRIDB_PORT": str(db.port),
        "ENODO_SIRIDB_DATABASE": "dbtest"}).start()
    try:
        fill_siridb(db.port)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for i in range(args.series):
            status, _, body = api.request("POST", "/series", {"name": f"bench/series {i:04d}"},
                                          headers=auth)
            if status != 201:
                raise SystemExit(f"adding series {i}: {status} {body}")
        conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
        conn.request("POST", "/ui/login", body=f"token={TOKEN}",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
        name = quote(CHARTED, safe="")
        conn.request("GET", f"/ui/series/{name}/chart", headers={"Cookie": cookie})
        chart = json.loads(conn.getresponse().read())
        if len(chart["history"]["y"]) != 500:  # the page must really read SiriDB
            raise SystemExit(f"the chart read no history: {chart['history']['error']}")
        pages = {
            "series list (first page of 50)": "/ui",
            "series list, filtered": "/ui?filter=series%2009&order=desc",
            "series list, live part (poll)": "/ui?part=live&offset=500",
            "series page": f"/ui/series/{name}",
            "series chart data (SiriDB read)": f"/ui/series/{name}/chart",
            "clients": "/ui/clients",
            "event log": "/ui/events",
            "event log, filtered": "/ui/events?level=info&kind=series_added&series=0999",
            "settings": "/ui/settings",
        }
        print(f"{args.series} series watched, {args.requests} sequential GETs per page, "
              f"gunicorn gevent x2, real hub; goal p50 < {GOAL_MS:g} ms")
        print(f"{'page':<34} {'p50 ms':>8} {'p95 ms':>8}")
        worst = 0.0
        for label, path in pages.items():
            for _ in range(5):  # warm up: templates compiled, sockets open
                timed(conn, path, cookie)
            times = sorted(timed(conn, path, cookie) for _ in range(args.requests))
            p50 = statistics.median(times) * 1000
            p95 = times[int(len(times) * 0.95) - 1] * 1000
            worst = max(worst, p50)
            print(f"{label:<34} {p50:>8.1f} {p95:>8.1f}")
        print(f"slowest p50: {worst:.1f} ms ({'meets' if worst < GOAL_MS else 'misses'} the goal)")
        return 0 if worst < GOAL_MS else 1
    finally:
        api.stop()
        hub.stop(signal.SIGKILL)
        db.close()


if __name__ == "__main__":
    sys.exit(main())
