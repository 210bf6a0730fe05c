"""GET /enodo/status while READERS clients read a long forecast: reply size and latency.

    python bench/forecast_readers.py [--points 10000] [--readers 8] [--duration 10]

A real enodo-hub and gunicorn (configs/gunicorn.conf.py, 2 workers) on loopback; a
forecast of --points points is written into the hub's store while it is stopped, as a
worker's result would be. Then --readers clients GET /series/{name}/forecast (the first
page, as a client that does not page gets) in a loop while one client times
/enodo/status. Issue 15 item 9 measured 9.4 s for /enodo/status with 8 readers of a
100,000-point forecast.
"""

from __future__ import annotations

import argparse
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

from tests.api.gunicorn_proc import Gunicorn  # noqa: E402
from tests.support.hub import HubProcess, store_forecast  # noqa: E402

NAME = "bench.forecast"


def main() -> int:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="enodo-bench-") as tmp:
        hub = HubProcess(Path(tmp)).start()
        api = Gunicorn("api.wsgi:app", workers=2,
                       env={"ENODO_API_HUB_ADDRESS": hub.address("api")}).start()
        try:
            assert api.request("POST", "/series", {"name": NAME})[0] == 201
            store_forecast(hub, NAME, args.points)
            path = f"/series/{NAME}/forecast"
            sizes: list[int] = []
            reads = [0]
            stop = time.monotonic() + args.duration

            def read() -> None:
                while time.monotonic() < stop:
                    status, _, body = api.request("GET", path, timeout=60)
                    assert status == 200
                    sizes.append(len(body["points"]))
                    reads[0] += 1

            threads = [threading.Thread(target=read) for _ in range(args.readers)]
            for thread in threads:
                thread.start()
            took = []
            while time.monotonic() < stop:
                start = time.monotonic()
                assert api.request("GET", "/enodo/status", timeout=60)[0] == 200
                took.append(time.monotonic() - start)
            for thread in threads:
                thread.join(120)
        finally:
            api.stop()
            hub.stop(signal.SIGKILL)
    print(f"forecast of {args.points} points, {args.readers} readers for {args.duration:g} s: "
          f"{reads[0]} forecast replies of {max(sizes)} points")
    print(f"/enodo/status: {len(took)} requests, p50 {statistics.median(took) * 1000:.0f} ms, "
          f"max {max(took) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
