"""Soak: SIGKILL a worker in the middle of a job, again and again, while jobs flow.

    python bench/soak_worker_kills.py [--kills 50] [--series 12] [--workers 3]
                                      [--select-delay 0.3] [--tmp DIR]

Real processes: the SiriDB development server (every select answered --select-delay late, so
a job takes at least twice that), a hub and --workers workers. Every series is trained and
forecast once, then gets points inside its forecast range far off it (anomalies to find);
from then on each series always has one forecast requested (queue_job), a new one as soon as
the last is done. Every time a worker runs a job (and at least two workers are online) that
worker is killed with SIGKILL and started again with the same id, as supervisord would.

Counted: kills (and how many hit a running job), forecasts requested and done, jobs lost
(requested but never done, or failed), duplicates (a series' forecast series in SiriDB with
more than `horizon` points, an anomaly timestamp twice in SiriDB or at the hub, the hub's
done count above the requests). The figures print at the end; the exit status is 1 when a
job was lost or duplicated. tests/integration/test_faults_soak.py runs it (marked slow).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.integration.test_worker_harness import seasonal_points, siridb  # noqa: E402
from tests.support.stack import Stack  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402
from tests.support.worker import WorkerProcess  # noqa: E402

HORIZON = 12
HISTORY = 200
SPIKES = 4
POLL = 0.05
#: Forecasts done between two kills: jobs keep flowing, not only dying.
MIN_DONE_BETWEEN_KILLS = 3


@dataclass
class SoakResult:
    """What one soak run counted."""

    kills: int = 0
    kills_mid_job: int = 0
    requested: int = 0
    done: int = 0
    lost: int = 0
    failed: int = 0
    duplicates: int = 0
    late_results: int = 0
    hub_done: int = 0
    seconds: float = 0.0


def soak(
    tmp: Path, kills: int = 50, series: int = 12, workers: int = 3, select_delay: float = 0.3,
    say: Callable[[str], None] = print, finish_timeout: float = 180.0,
) -> SoakResult:
    """Run the soak in tmp (logs of every process stay there); return the counts."""
    started = time.monotonic()
    stack = Stack(tmp, workers=workers, select_delay=select_delay)
    try:
        stack.start()
        names = [f"soak/{i:02d} 'q'" for i in range(series)]
        result = _run(stack, names, kills, say, finish_timeout)
    finally:
        stack.close()
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _run(stack: Stack, names: list[str], kills: int, say: Callable[[str], None],
         finish_timeout: float) -> SoakResult:
    client = stack.client
    siridb(stack.db.port, ("insert", {n: seasonal_points(HISTORY) for n in names}))
    client.call("set_settings", settings={"min_data_points": 100, "horizon": HORIZON,
                                          "reconcile_interval": 3600, "max_job_duration": 60})
    for name in names:
        client.call("add_series", name=name, model="arima")
    for name in names:
        wait_for(lambda n=name: stack.job(n, "forecast")["state"] == "done", 120,
                 f"the first forecast of {name}")
    spikes = [[ts, v + 100.0] for ts, v in seasonal_points(HISTORY + SPIKES)[HISTORY:]]
    siridb(stack.db.port, ("insert", {n: spikes for n in names}))
    base = client.status()["jobs"]
    say(f"{len(names)} series trained; soaking with {len(stack.workers)} workers")

    result = SoakResult()
    outstanding: set[str] = set()
    finish_by: float | None = None  # once the kills are over, what is out must end by then
    killer = Killer(stack, result, say)
    while result.kills < kills or outstanding:
        time.sleep(POLL)  # pacing of the polls, not a wait for anything
        states = {s["name"]: s["jobs"]["forecast"] for s in client.call("list_series")["series"]}
        for name in list(outstanding):
            if states[name] == "done":
                outstanding.discard(name)
                result.done += 1
            elif states[name] == "failed":
                outstanding.discard(name)
                result.failed += 1
        if result.kills < kills:
            for name in names:
                if name not in outstanding:
                    client.call("queue_job", name=name, job_type="forecast")
                    outstanding.add(name)
                    result.requested += 1
            killer.maybe_kill(states)
            continue
        finish_by = finish_by or time.monotonic() + finish_timeout
        if time.monotonic() > finish_by:
            break
    result.lost = result.requested - result.done
    stats = client.status()["jobs"]
    result.hub_done = stats["done"] - base["done"]
    result.late_results = stats["late_results"]
    result.duplicates = _duplicates(stack, names, spikes) + max(0, result.hub_done - result.done)
    return result


class Killer:
    """Kills a worker that runs a job once jobs flowed since the last kill."""

    def __init__(self, stack: Stack, result: SoakResult, say: Callable[[str], None]) -> None:
        self.stack, self.result, self.say = stack, result, say
        self.log_start = {w.index: 0 for w in stack.workers}  # log offset of this incarnation
        self.done_at_last_kill = 0

    def ready(self, worker: WorkerProcess) -> bool:
        """True once this incarnation of the worker handshook with the hub."""
        if worker.proc is None or worker.proc.poll() is not None:
            return False
        with open(worker.log_path, "rb") as log:
            log.seek(self.log_start[worker.index])
            return b"handshake with hub" in log.read()

    def maybe_kill(self, states: dict[str, str]) -> None:
        """Kill one worker running a job, if two are ready and work went on since the last."""
        result = self.result
        if result.done - self.done_at_last_kill < MIN_DONE_BETWEEN_KILLS:
            return
        ready = {w.worker_id for w in self.stack.workers if self.ready(w)}
        if len(ready) < 2:
            return
        for name, state in states.items():
            if state != "running":
                continue
            job = self.stack.job(name, "forecast")
            if job["state"] != "running" or job["worker"] not in ready:
                continue
            worker = self.stack.worker(job["worker"])
            worker.stop(signal.SIGKILL)
            self.log_start[worker.index] = worker.log_path.stat().st_size
            self.stack.add_worker(worker.index)  # supervisord starts it again
            result.kills += 1
            result.kills_mid_job += 1
            self.done_at_last_kill = result.done
            if result.kills % 10 == 0:
                self.say(f"{result.kills} kills, {result.done}/{result.requested} forecasts done")
            return


def _duplicates(stack: Stack, names: list[str], spikes: list[list]) -> int:
    """Outputs found more than once: in SiriDB's enodo.* series and the hub's anomalies."""
    extra = 0
    for name in names:
        quoted = ("enodo." + name).replace("'", "''")
        kinds = ("forecast", "lower", "upper", "anomalies")
        replies = siridb(stack.db.port, *[("query", f"select * from '{quoted}.{k}'")
                                          for k in kinds])
        for kind, reply in zip(kinds, replies, strict=True):
            points = reply.get(f"enodo.{name}.{kind}", [])
            stamps = Counter(ts for ts, _ in points)
            extra += sum(n - 1 for n in stamps.values())
            if kind != "anomalies":
                extra += max(0, len(points) - HORIZON)
        anomalies = stack.client.call("get_anomalies", name=name)["anomalies"]
        extra += len(anomalies) - len({a["timestamp"] for a in anomalies})
    return extra


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--series", type=int, default=12)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--select-delay", type=float, default=0.3)
    parser.add_argument("--tmp", help="directory for the processes' logs (default: temporary)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="enodo-soak-") as scratch:
        tmp = Path(args.tmp) if args.tmp else Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        result = soak(tmp, args.kills, args.series, args.workers, args.select_delay,
                      say=lambda text: print(text, flush=True))
    for key, value in asdict(result).items():
        print(f"{key:>14}: {value}")
    return 0 if result.lost == 0 and result.duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
