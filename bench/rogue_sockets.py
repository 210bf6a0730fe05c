"""Jobs per 30 s with and without rogue sockets on every hub port (issue 15, item 1).

    python bench/rogue_sockets.py [--rogues 20] [--series 6] [--workers 2] [--window 30]

Real processes on loopback: the SiriDB development server, a hub and --workers workers.
Each series is trained once; then every series always has one forecast requested
(queue_job), a new one as soon as the last is done, and the forecasts done in --window
seconds are counted twice: alone, and with --rogues PULL and --rogues DEALER sockets
connected to every hub port (none handshakes; they take what comes and never answer) plus
one worker refused for a wrong token. Before jobs went over the worker's session, such
sockets on the jobs port took jobs: 24 jobs per 30 s fell to 2. Prints both counts and
their ratio, and what the rogues received (must be nothing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import zmq

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration.test_worker_harness import seasonal_points, siridb  # noqa: E402
from tests.support.stack import Stack  # noqa: E402
from tests.support.waiting import free_port, wait_for  # noqa: E402
from tests.support.worker import WorkerProcess  # noqa: E402

HORIZON = 12


def forecasts_in(stack: Stack, names: list[str], window: float) -> int:
    """Forecasts done in window seconds, one always requested per series."""
    client = stack.client
    wait_for(lambda: all(stack.job(n, "forecast")["state"] in ("done", "failed") for n in names),
             120, "the forecasts in flight to end")
    start = client.status()["jobs"]["done"]
    deadline = time.monotonic() + window
    asked: dict[str, float] = {}
    while time.monotonic() < deadline:
        for name in names:
            job = stack.job(name, "forecast")
            settled = job["state"] in ("done", "failed")
            if settled and job.get("updated_at", 0) >= asked.get(name, 0):
                asked[name] = time.time()
                client.call("queue_job", name=name, job_type="forecast")
        time.sleep(0.05)
    return client.status()["jobs"]["done"] - start


def rogue_sockets(stack: Stack, count: int) -> list[zmq.Socket]:
    """count PULL and count DEALER sockets on every hub port; none handshakes."""
    ctx = zmq.Context.instance()
    out = []
    for port in stack.hub.ports.values():
        for kind in (zmq.PULL, zmq.DEALER):
            for _ in range(count):
                sock = ctx.socket(kind)
                sock.setsockopt(zmq.LINGER, 0)
                sock.connect(f"tcp://127.0.0.1:{port}")
                out.append(sock)
    return out


def received(socks: list[zmq.Socket]) -> int:
    """Messages the rogue sockets hold."""
    total = 0
    for sock in socks:
        while sock.poll(0):
            sock.recv_multipart()
            total += 1
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rogues", type=int, default=20)
    parser.add_argument("--series", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="enodo-rogues-") as tmp:
        stack = Stack(Path(tmp), workers=args.workers).start()
        try:
            names = [f"bench/rogue-{i}" for i in range(args.series)]
            siridb(stack.db.port, ("insert", {n: seasonal_points(300) for n in names}))
            stack.client.call("set_settings", settings={"min_data_points": 100,
                                                        "horizon": HORIZON})
            for name in names:
                stack.client.call("add_series", name=name, model="arima")
            wait_for(lambda: all(stack.job(n, "forecast")["state"] == "done" for n in names),
                     180, "every series trained and forecast once")
            alone = forecasts_in(stack, names, args.window)
            socks = rogue_sockets(stack, args.rogues)
            ports = len(stack.hub.ports)
            refused = WorkerProcess(Path(tmp), stack.hub.ports, free_port(), 99,
                                    extra={"ENODO_WORKER_TOKEN": "wrong"}).start()
            try:
                beset = forecasts_in(stack, names, args.window)
                got = received(socks)
                refused_log = refused.log_path.read_text()
            finally:
                refused.stop()
                for sock in socks:
                    sock.close(linger=0)
            failed = stack.client.status()["jobs"]["failed"]
        finally:
            stack.close()
    ran = refused_log.count(" job ") - refused_log.count("refusing job")
    print(f"forecasts per {args.window:g} s, {args.workers} workers, {args.series} series:")
    print(f"  alone: {alone}")
    print(f"  with {args.rogues} PULL + {args.rogues} DEALER on each of {ports} hub ports "
          f"and a refused worker: {beset} (ratio {beset / max(alone, 1):.2f})")
    print(f"  messages the rogue sockets received: {got}; jobs failed: {failed}; "
          f"refused worker's job lines: {ran}; refused at handshake: "
          f"{'unauthorized' in refused_log}")
    return 0 if got == 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
