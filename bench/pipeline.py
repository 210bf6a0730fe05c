"""Pipeline overhead: forecasts/s through dev SiriDB + hub + N workers vs the same jobs in a pool.

    python bench/pipeline.py [--series 200] [--points 500] [--workers 2] [--rounds 3]
                             [--model arima|prophet] [--trigger queue|add]
                             [--jobs train+forecast|forecast]

Set-up (untimed): a SiriDB development server (memory storage) holding two sets of --series
series per round with the same --points hourly points each (daily cycle, trend, noise; set A
for the pipeline, set B for the baseline, so that neither finds the other's outputs), a real
enodo-hub with SiriDB configured (its reconciler runs, as in production), and --workers
enodo-worker processes whose model children are warm. A warm-up round of 2 x --workers series
runs on both sides first.

Pipeline, --trigger queue (default): set A is watched already and min_data_points is out of
reach, so no training starts by itself; the clock starts when one client sends `queue_job
train` for every series (pipelined on the control socket); the hub dispatches the trainings,
each training result makes the hub queue a forecast; the clock stops at the newest forecast_at
the hub stored (completion is polled with enodo_status every 100 ms). --trigger add: the clock
starts at `add_series` of every series (default min_data_points), the hub's reconciliation
counts each series in SiriDB and queues the trainings itself. --jobs forecast: one set is
trained once (untimed, round 0), then each round times `queue_job forecast` of every series:
short jobs, as in the steady state, so that the cost per job shows.

Baseline: the same jobs (train, then forecast with the trained state; same model, parameters,
settings, data) run through the worker's own JobRunner in a pool of --workers spawned processes
(OPENBLAS_NUM_THREADS=1 as the worker sets), each with its SiriDB connection to the same dev
server opened before the clock: it reads the same points with siridb-connector and writes the
same outputs. Rounds alternate which side goes first; figures are medians.
Goal: pipeline forecasts/s >= 0.8 x baseline forecasts/s.

Evidence printed besides the rates: CPU seconds per series of every process involved (from
/proc: hub, worker loops, model children, the dev server; pool jobs), which the machine's other
load does not distort as much as wall time; and, from the workers' logs, each job's time from
receipt to result and the gaps between one result and the next job.
Duration: a train job also backtests the model (actors/worker/accuracy.py), ~0.7 s CPU per
series here, so the defaults take about 7 minutes on an idle 2-core machine (--series 60: ~3).
"""

from __future__ import annotations

import os

from actors.common.blas import one_blas_thread

one_blas_thread()  # before numpy loads (actors/common/blas.py)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import datetime  # noqa: E402
from itertools import repeat  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from protocol.envelope import Message  # noqa: E402
from protocol.jobs import JOB_SETTINGS  # noqa: E402
from protocol.types import MessageType  # noqa: E402
from scripts.siridb_dev.testing import DevServer  # noqa: E402
from tests.support.hub import HubProcess, Peer  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402

GOAL = 0.8
TOKEN = "bench-token"  # set explicitly: the hub would otherwise make one in its data_dir
DATABASE = "dbtest"
TS0 = 1_700_000_000_000
HOUR_MS = 3_600_000
POLL = 0.1
DEADLINE = 900.0


def points(n: int, seed: int) -> list[list[Any]]:
    """Hourly points: daily cycle, slow trend, noise."""
    rng = random.Random(seed)
    return [[TS0 + i * HOUR_MS, 100 + 0.01 * i + 10 * math.sin(2 * math.pi * i / 24)
             + rng.gauss(0, 1.5)] for i in range(n)]


def insert_all(port: int, data: dict[str, list], batch: int = 40) -> None:
    """Insert {name: points} into the dev server, `batch` series per insert."""
    from siridb.connector import SiriDBClient

    async def run() -> None:
        client = SiriDBClient("iris", "siri", DATABASE, [("127.0.0.1", port)])
        await client.connect()
        try:
            names = list(data)
            for i in range(0, len(names), batch):
                await client.insert({n: data[n] for n in names[i : i + batch]}, timeout=60)
        finally:
            client.close()

    asyncio.run(run())


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their reaped children, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def children_of(pids: list[int]) -> list[int]:
    """The direct children of these processes (the workers' model children)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in pids:
                out.append(int(entry.name))
    return out


# the baseline's Pool ----------------------------------------------------------
_CHILD: dict[str, Any] = {}


def pool_init(port: int) -> None:
    """Warm the imports and open the SiriDB connection, as the worker's model child does."""
    import logging

    import numpy  # noqa: F401 - warm import
    import statsmodels.tsa.statespace.sarimax  # noqa: F401 - warm import

    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    import prophet  # noqa: F401 - warm import

    logging.getLogger("prophet").setLevel(logging.WARNING)
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    from actors.worker.config import SiriDBSettings
    from actors.worker.jobs import JobRunner
    from actors.worker.siridb_io import DEFAULT_CHUNK_POINTS, SiriDB

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    reader = SiriDB(SiriDBSettings("127.0.0.1", port, "iris", "siri", DATABASE), 10.0)
    loop.run_until_complete(reader.precision())
    _CHILD.update(loop=loop, jobs=JobRunner(reader, reader, DEFAULT_CHUNK_POINTS))


def pool_job(name: str, model: str, params: dict, settings: dict, state: dict | None = None,
             previous: dict | None = None) -> dict[str, Any]:
    """Train (unless given a state), then forecast one series with the worker's JobRunner."""
    loop, jobs = _CHILD["loop"], _CHILD["jobs"]
    body = {"job_id": f"{name}.t", "series": name, "model": model, "model_parameters": params,
            "state": None, "settings": settings, "attempt": 0, "context": {}}
    cpu0, t0 = sum(os.times()[:4]), time.perf_counter()
    if state is None:
        state = loop.run_until_complete(jobs.run("train", body))["state"]
    t1 = time.perf_counter()
    body = dict(body, job_id=f"{name}.f", state=state, context={"previous_forecast": previous})
    forecast = loop.run_until_complete(jobs.run("forecast", body))["forecast"]
    return {"train": t1 - t0, "forecast": time.perf_counter() - t1,
            "cpu": sum(os.times()[:4]) - cpu0, "state": state, "previous": forecast}


def bare_round(pool: Any, stack: dict, names: list[str], job: tuple,
               trained: list[dict] | None = None) -> dict:
    """Run the baseline over the series once (each process takes the next series when free).

    With `trained` (an earlier round's results) only the forecasts run, on those states.
    """
    extra = [[r["state"] for r in trained], [r["previous"] for r in trained]] if trained else []
    siridb0, started = cpu_seconds([stack["siridb"]]), time.perf_counter()
    runs = list(pool.map(pool_job, names, *(repeat(x) for x in job), *extra))
    elapsed = time.perf_counter() - started
    cpu = {"pool jobs": sum(r["cpu"] for r in runs),
           "siridb": cpu_seconds([stack["siridb"]]) - siridb0}
    return {"rate": len(names) / elapsed, "elapsed": elapsed, "cpu": cpu, "results": runs,
            "train": statistics.median(r["train"] for r in runs),
            "forecast": statistics.median(r["forecast"] for r in runs)}


# the pipeline -------------------------------------------------------------------
class Client:
    """A handshaken client on the hub's control socket that pipelines API actions."""

    def __init__(self, hub: HubProcess) -> None:
        self.peer = Peer(hub.address("control"), "bench-client", "client", token=TOKEN)
        if self.peer.handshake(timeout=30).type is not MessageType.HANDSHAKE_OK:
            raise RuntimeError("the hub refused the bench client")

    def many(self, requests: list[tuple[str, dict]]) -> list[Any]:
        """Send every request, then collect the answers' data (RuntimeError on an error)."""
        ids = []
        for action, params in requests:
            msg = Message(MessageType.API_REQUEST, {"action": action, "params": params})
            self.peer.channel.send(msg)
            ids.append(msg.id)
        answers: dict[str, Message] = {}
        while len(answers) < len(ids):
            answer = self.peer.recv(timeout=30)
            if answer.reply_to is not None:
                answers[answer.reply_to] = answer
        bad = [answers[i].body for i in ids if answers[i].type is not MessageType.RESPONSE_OK]
        if bad:
            raise RuntimeError(f"{len(bad)} of {len(ids)} requests failed, e.g. {bad[0]}")
        return [answers[i].body["data"] for i in ids]

    def one(self, action: str, **params: Any) -> Any:
        return self.many([(action, params)])[0]

    def close(self) -> None:
        self.peer.close()


def stack_cpu(stack: dict) -> dict[str, float]:
    """CPU seconds so far of each part of the pipeline."""
    workers = stack["workers"]
    return {"model children": cpu_seconds(children_of(workers)),
            "worker loops": cpu_seconds(workers), "hub": cpu_seconds([stack["hub"]]),
            "siridb": cpu_seconds([stack["siridb"]])}


def pipeline_round(hub: HubProcess, stack: dict, names: list[str], model: str,
                   trigger: str) -> dict:
    """Request the jobs, wait for every forecast; the end is the newest forecast_at.

    trigger: "queue" (queue_job train: a train, then the forecast the hub queues after it),
    "add" (add_series: the hub's reconciliation queues the trains) or "forecast" (queue_job
    forecast on trained series: one job each).
    """
    client = Client(hub)
    try:
        before, cpu0 = client.one("enodo_status")["jobs"], stack_cpu(stack)
        started = time.time()
        if trigger == "add":
            client.many([("add_series", {"name": n, "model": model}) for n in names])
        else:
            kind = "forecast" if trigger == "forecast" else "train"
            client.many([("queue_job", {"name": n, "job_type": kind}) for n in names])
        expected = before["done"] + len(names) * (1 if trigger == "forecast" else 2)
        deadline = time.monotonic() + DEADLINE
        while True:
            jobs = client.one("enodo_status")["jobs"]
            if jobs["done"] >= expected or jobs["failed"] > before["failed"]:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"not done after {DEADLINE} s: {jobs}")
            time.sleep(POLL)
        cpu1 = stack_cpu(stack)
        details = client.many([("get_series", {"name": n}) for n in names])
    finally:
        client.close()
    missing = [(d["name"], d["jobs"]) for d in details if (d["forecast_at"] or 0) < started]
    if missing:
        raise RuntimeError(f"{len(missing)} series without a forecast, e.g. {missing[0]}")
    elapsed = max(d["forecast_at"] for d in details) - started
    return {"rate": len(names) / elapsed, "elapsed": elapsed,
            "window": (started, started + elapsed), "cpu": {k: cpu1[k] - cpu0[k] for k in cpu0}}


def start_workers(tmp: Path, hub: HubProcess, siridb_port: int, count: int) -> list:
    procs = []
    for i in range(count):
        env = dict(os.environ)
        env.update(
            ENODO_WORKER_CONTROL_PORT=str(hub.ports["control"]),
            ENODO_WORKER_RESULTS_PORT=str(hub.ports["results"]),
            ENODO_WORKER_STATE_DIR=str(tmp / "worker-state"), ENODO_WORKER_WORKER_ID="bench",
            ENODO_WORKER_TOKEN=TOKEN, ENODO_WORKER_LOG_LEVEL="INFO",
            ENODO_SIRIDB_HOST="127.0.0.1", ENODO_SIRIDB_PORT=str(siridb_port),
            ENODO_SIRIDB_DATABASE=DATABASE, ENODO_WORKER_METRICS_PORT="0",  # /metrics off
        )
        with open(tmp / f"worker-{i}.log", "ab") as log:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "actors.worker.main", "--id", str(i)],
                env=env, stdout=log, stderr=log, cwd=ROOT))
    return procs


def stop_all(workers: list, hub: HubProcess) -> None:
    """SIGTERM the workers and the hub; SIGKILL what has not ended after 20 s."""
    procs = [p for p in (*workers, hub.proc) if p is not None and p.poll() is None]
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


LOG_LINE = re.compile(  # the worker's "job X: train ...", "job X done in", "refusing job X (busy)"
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*?job (\S+)"
    r"(: (train|fit|forecast) | done in |.*\(busy\))"
)


def worker_timeline(tmp: Path, count: int, windows: list[tuple[float, float]]) -> dict:
    """From the workers' logs, per timed window: job spans, idle head, gaps, tail, refusals."""
    spans: dict[str, list[float]] = {"train": [], "forecast": []}
    gaps: list[float] = []
    gaps_before: dict[str, list[float]] = {"train": [], "forecast": []}
    heads: list[float] = []
    tails: list[float] = []
    refused = 0
    for i in range(count):
        events = []  # (window, ts, kind, job id, job kind)
        for line in (tmp / f"worker-{i}.log").read_text(errors="replace").splitlines():
            m = LOG_LINE.match(line)
            ts = m and datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            # Log stamps are cut to the ms; the result is logged before the hub stores it.
            w = next((k for k, (a, b) in enumerate(windows) if m and a - 0.01 <= ts <= b + 0.05),
                     None)
            if w is not None:
                kind = "start" if m.group(4) else "done" if "done" in m.group(3) else "busy"
                events.append((w, ts, kind, m.group(2), m.group(4)))
        for w, (a, b) in enumerate(windows):
            last_done, current = None, None
            for _, ts, kind, job_id, job_kind in (e for e in events if e[0] == w):
                if kind == "start":
                    if last_done is None:
                        heads.append(ts - a)
                    else:
                        gaps.append(ts - last_done)
                        gaps_before.setdefault(job_kind, []).append(ts - last_done)
                    current = (job_id, job_kind, ts)
                elif kind == "done" and current and current[0] == job_id:
                    spans[current[1]].append(ts - current[2])
                    last_done, current = ts, None
                elif kind == "busy":
                    refused += 1
            if last_done is not None:
                tails.append(b - last_done)
    return {"train": statistics.median(spans["train"] or [0]),
            "forecast": statistics.median(spans["forecast"] or [0]),
            "busy": sum(spans["train"]) + sum(spans["forecast"]),
            "gap_p50": statistics.median(gaps or [0]), "gap_mean": statistics.fmean(gaps or [0]),
            "gaps": sum(gaps), "head": statistics.fmean(heads or [0]),
            "gap_forecast": statistics.median(gaps_before["forecast"] or [0]),
            "gap_train": statistics.median(gaps_before["train"] or [0]),
            "tail": statistics.fmean(tails or [0]),
            "jobs": len(spans["train"]) + len(spans["forecast"]), "refused": refused}


def main(argv: list[str] | None = None) -> int:
    """Set up, run the rounds, print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="arima", choices=("arima", "prophet"))
    parser.add_argument("--trigger", default="queue", choices=("queue", "add"))
    parser.add_argument(
        "--jobs", default="train+forecast", choices=("train+forecast", "forecast"),
        help="forecast: train the series once (untimed), then time a forecast of each per "
             "round (the steady state: short jobs, so the cost per job shows)")
    args = parser.parse_args(argv)
    if args.jobs == "forecast" and args.trigger == "add":
        parser.error("--jobs forecast times queue_job forecast: not with --trigger add")
    # timeout(1) and kill send SIGTERM: unwind, so that what was started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    forecasts_only = args.jobs == "forecast"
    # Round 0 is the warm-up: a few series; with --jobs forecast, the (untimed) training of
    # the one set of series every later round forecasts again.
    sizes = [2 * args.workers] + [args.series] * args.rounds
    if forecasts_only:
        sizes = [args.series]
    sets = {(r, side): [f"bench.r{r}.{side}.s{i:03d}" for i in range(n)]
            for r, n in enumerate(sizes) for side in ("a", "b")}
    t_setup = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enodo-bench-") as tmp_name, \
            DevServer(DATABASE, storage="memory") as siridb:
        tmp = Path(tmp_name)
        insert_all(siridb.port, {n: points(args.points, i) for names in sets.values()
                                 for i, n in enumerate(names)})
        progress(f"inserted {sum(map(len, sets.values()))} series of {args.points} points")
        hub = HubProcess(tmp, {
            "ENODO_HUB_TOKEN": TOKEN, "ENODO_HUB_LOG_LEVEL": "INFO",
            "ENODO_HUB_HEARTBEAT_INTERVAL": "1.0", "ENODO_SIRIDB_HOST": "127.0.0.1",
            "ENODO_SIRIDB_PORT": str(siridb.port), "ENODO_SIRIDB_DATABASE": DATABASE})
        workers: list = []
        try:
            hub.start()
            workers = start_workers(tmp, hub, siridb.port, args.workers)
            stack = {"hub": hub.proc.pid, "workers": [w.pid for w in workers],
                     "siridb": siridb.proc.pid}
            client = Client(hub)
            if args.trigger == "queue":
                client.one("set_settings", settings={"min_data_points": 10**9})
                client.many([("add_series", {"name": n, "model": args.model})
                             for (_, side), names in sets.items() if side == "a" for n in names])
            settings = client.one("get_settings")
            wait_for(lambda: client.one("enodo_status")["jobs"]["idle_capacity"] == args.workers,
                     180, "the workers to be ready")
            client.close()
            progress(f"hub and {args.workers} workers ready (logs in {tmp})")
            from actors.hub.models import check_model

            model, params = check_model(args.model, {})
            job = (model, params, {k: settings[k] for k in JOB_SETTINGS})
            runs: dict[str, list] = {"pipe": [], "bare": []}
            trained: list[dict] = []  # the baseline's last states and forecasts
            spawn = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(args.workers, mp_context=spawn, initializer=pool_init,
                                       initargs=(siridb.port,))
            with pool:  # (a Pool hangs in terminate() when its processes were killed)
                setup = time.perf_counter() - t_setup
                for r in range(args.rounds + 1):
                    for side in ("pipe", "bare") if r % 2 else ("bare", "pipe"):
                        names = sets[(0 if forecasts_only else r, "a" if side == "pipe" else "b")]
                        if side == "pipe":
                            trigger = "forecast" if forecasts_only and r else args.trigger
                            run = pipeline_round(hub, stack, names, model, trigger)
                        else:
                            run = bare_round(pool, stack, names, job,
                                             trained if forecasts_only and r else None)
                            trained = run["results"]
                        progress(f"round {r or 'warm-up'}: {side} {run['elapsed']:.1f} s")
                        if r:
                            runs[side].append(run)
        finally:
            stop_all(workers, hub)
        timeline = worker_timeline(tmp, args.workers, [r["window"] for r in runs["pipe"]])
    _report(args, setup, runs, timeline)
    return 0


def _cpu_line(runs: list[dict], series: int) -> str:
    parts = {k: statistics.median(r["cpu"][k] for r in runs) / series * 1e3 for k in runs[0]["cpu"]}
    return f"{sum(parts.values()):6.0f} ms (" + ", ".join(
        f"{k} {v:.0f}" for k, v in parts.items()) + ")"


def _report(args, setup, runs, timeline) -> None:
    pipe = statistics.median(r["rate"] for r in runs["pipe"])
    bare = statistics.median(r["rate"] for r in runs["bare"])
    wall = sum(r["elapsed"] for r in runs["pipe"]) * args.workers
    print(f"{args.series} series x {args.points} points, model {args.model}, {args.workers} "
          f"workers / pool processes, jobs {args.jobs}, trigger {args.trigger}, median of "
          f"{args.rounds} rounds "
          f"(set-up {setup:.1f} s; load average now {os.getloadavg()[0]:.1f})")
    for side, rate in (("pipeline", pipe), ("bare", bare)):
        rounds = ", ".join(f"{r['rate']:.2f} ({r['elapsed']:.1f} s, CPU "
                           f"{sum(r['cpu'].values()) / args.series * 1e3:.0f} ms/series)"
                           for r in runs[side[:4]])
        print(f"{side + ':':9} {rate:7.2f} forecasts/s  rounds: {rounds}")
    print("CPU per series, pipeline:" + _cpu_line(runs["pipe"], args.series))
    print("CPU per series, bare:    " + _cpu_line(runs["bare"], args.series))
    train = statistics.median(r["train"] for r in runs["bare"])
    forecast = statistics.median(r["forecast"] for r in runs["bare"])
    print(f"bare, per series (median wall): train {train * 1e3:.0f} ms, forecast "
          f"{forecast * 1e3:.0f} ms (JobRunner.run: SiriDB reads, model, writes)")
    print(f"workers' logs (timed rounds): {timeline['jobs']} jobs; median received->result: "
          f"train {timeline['train'] * 1e3:.0f} ms, forecast {timeline['forecast'] * 1e3:.0f} ms")
    print(f"  worker time in jobs {timeline['busy'] / wall * 100:.1f}%; between jobs "
          f"{timeline['gaps'] / wall * 100:.1f}% (gap result->next job p50 "
          f"{timeline['gap_p50'] * 1e3:.1f} ms, mean {timeline['gap_mean'] * 1e3:.1f} ms; p50 "
          f"before a train {timeline['gap_train'] * 1e3:.1f} ms, before a forecast "
          f"{timeline['gap_forecast'] * 1e3:.1f} ms); "
          f"mean wait for the first job {timeline['head'] * 1e3:.0f} ms, idle after the last "
          f"{timeline['tail'] * 1e3:.0f} ms; jobs pushed to a busy worker (refused) "
          f"{timeline['refused']}")
    cpu = {side: statistics.median(sum(r["cpu"].values()) for r in runs[side])
           for side in ("pipe", "bare")}
    print(f"CPU ratio bare/pipeline (per series, all processes): {cpu['bare'] / cpu['pipe']:.3f}")
    print(f"ratio pipeline/bare: {pipe / bare:.3f} (goal >= {GOAL})")


if __name__ == "__main__":
    sys.exit(main())
