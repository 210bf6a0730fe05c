"""One hub with many watched series: memory, loop turns, job rate, REST latency, restarts.

    python bench/scale.py [--series 100000] [--duration 60] [--saturation-jobs 10000]
                          [--listeners 4] [--point-interval 60] [--workers 2] [--capacity 32]
                          [--refresh 300] [--real-workers N [--history 72]]

Set-up: the store of a throw-away data_dir is seeded with --series trained series (each
with its model state, last forecast and detector state; bench/scale_seed.py writes the
hub's own records with executemany, no hub running). Then a real enodo-hub starts on it
(SiriDB not configured, log level WARNING, Prometheus metrics on), and the time from its
start to serving (a handshake answered, then an API request) is taken. gunicorn serves
the real REST API in front of it.

Steady phase (--duration s): --listeners listener peers report counts once a second, each
series getting a point every --point-interval s; a client queues a forecast of the series
in turn at --series / --refresh per second (every series refreshed every --refresh s);
--workers stub workers (capacity --capacity each; they answer every job at once with a
forecast, over the real worker protocol: bench/scale_peers.py) take the jobs. Meanwhile
GET /series/{name} and GET /series go through gunicorn, a few per second.
Saturation phase: the client queues --saturation-jobs forecasts as fast as the hub answers
(listeners still reporting): results applied per second and hub CPU per job.
Then the hub is stopped (SIGTERM) and started again, and then killed (kill -9, a few
seconds into a saturation burst) and started again: both times to serving are printed.

With --real-workers N the stub workers give way to N real enodo-worker processes and the
series exist in a development SiriDB with --history points each (bench/scale_real.py):
the same figures with real forecast jobs (model, SiriDB read, judging, write back).

Loop turn quantiles are read from the hub's enodo_hub_loop_turn_seconds histogram (the
phase's difference), interpolated in its buckets; "over 10 ms" is exact (a bucket edge).
Hub CPU is read from /proc. Goals (issue 14): RSS <= 300 MB at 100,000 series, loop turn
p99 < 10 ms, restart < 5 s, hub CPU per job <= 0.3 ms. Last line:
scale: series=N rss_mb=X turn_p99_ms=X restart_s=X hub_cpu_per_job_ms=X jobs_per_s=X
"""

from __future__ import annotations

import argparse
import multiprocessing
import queue
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale_measure import (  # noqa: E402
    RestProbe,
    hub_cpu,
    quantiles,
    rss_mb,
    scrape_turns,
    serving_after,
    sqlite_mb,
)
from bench.scale_peers import driver_main, listener_main, worker_main  # noqa: E402
from bench.scale_real import (  # noqa: E402
    forecasts_written,
    history,
    siridb_env,
    start_siridb,
    start_workers,
    stop_all,
    trained_state,
)
from bench.scale_seed import seed_store, series_name  # noqa: E402
from tests.api.gunicorn_proc import Gunicorn  # noqa: E402
from tests.support.hub import HubProcess, Peer  # noqa: E402
from tests.support.waiting import free_port, wait_for  # noqa: E402

TOKEN = "scale-bench-token"
FIT_NEVER = 10**9  # counts alone queue no job: the driver sets the job rate


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Load:
    """The peer processes of one phase; stop() ends them and gathers their tallies."""

    def __init__(self, mp: multiprocessing.context.BaseContext) -> None:
        self.mp, self.stop_event, self.out, self.procs = mp, mp.Event(), mp.Queue(), []

    def start(self, name: str, target: object, *args: object) -> None:
        proc = self.mp.Process(name=name, target=target, args=(*args, self.stop_event, self.out))
        proc.start()
        self.procs.append(proc)

    def stop(self, timeout: float = 60.0) -> list[tuple[str, dict]]:
        """Stop every peer; the tallies of those that ended within timeout (others killed:
        a peer still waiting for a handshake of a killed hub has none)."""
        self.stop_event.set()
        deadline, tallies = time.monotonic() + timeout, []
        for _ in self.procs:
            try:
                tallies.append(self.out.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                break
        for proc in self.procs:
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(10)
        return tallies


def configure(hub: HubProcess) -> None:
    with Peer(hub.address("control"), "scale-admin", "client", token=TOKEN) as peer:
        peer.handshake(timeout=60)
        answer = peer.api("set_settings", timeout=60, settings={
            "fit_every": FIT_NEVER, "retrain_every": FIT_NEVER, "retrain_interval": 0})
        if answer.type.value != "RESPONSE_OK":
            raise RuntimeError(f"set_settings refused: {answer.body}")


def phase(hub: HubProcess, metrics_port: int, load: Load, driver: tuple, seconds: float,
          workers: int, target: int | None = None) -> dict:
    """Once `workers` workers are online, start the driver; run for `seconds` (or until
    `target` results were applied); return the hub's figures over that time."""
    wanted = {"worker": workers}
    wait_for(lambda: all(scrape_turns(metrics_port)["peers"].get(k, 0) >= n
                         for k, n in wanted.items()), 120, "the load's peers to be online")
    turns0, cpu0, t0 = scrape_turns(metrics_port), hub_cpu(hub.proc.pid), time.monotonic()
    load.start("driver", driver_main, *driver)
    deadline, turns1 = t0 + seconds, turns0
    while time.monotonic() < deadline:
        time.sleep(1.0)  # a bench's pacing (each scrape costs the hub ~5 ms of CPU)
        if target is not None:
            turns1 = scrape_turns(metrics_port)
            if turns1["jobs_done"] - turns0["jobs_done"] >= target:
                break
    if target is None:
        turns1 = scrape_turns(metrics_port)
    cpu1, elapsed = hub_cpu(hub.proc.pid), time.monotonic() - t0
    tallies = load.stop()
    jobs = turns1["jobs_done"] - turns0["jobs_done"]
    return {"elapsed": elapsed, "cpu": cpu1 - cpu0, "jobs": jobs, "tallies": tallies,
            "turns": quantiles(turns0, turns1), "rss": rss_mb(hub.proc.pid),
            "cpu_turns": quantiles(turns0, turns1, "cpu_buckets")}


def peers(args: argparse.Namespace, hub: HubProcess, names: list[str]) -> Load:
    """Stub workers (none with real ones) and listeners, started (the driver comes later)."""
    load = Load(multiprocessing.get_context("fork"))
    for no in range(0 if args.real_workers else args.workers):
        load.start("worker", worker_main, hub.address("control"), hub.address("results"), TOKEN,
                   no, args.capacity)
    for no in range(args.listeners):
        load.start("listener", listener_main, hub.address("control"), TOKEN, no,
                   names[no::args.listeners], 1.0, args.point_interval)
    return load


def driver(hub: HubProcess, jobs: list[str], rate: float) -> tuple:
    """driver_main's arguments: queue forecasts of `jobs` at `rate` (0: at once), 500 unanswered."""
    return hub.address("control"), TOKEN, jobs, rate, 500


def report_phase(name: str, result: dict) -> None:
    turns, jobs = result["turns"], result["jobs"]
    per_job = result["cpu"] / jobs * 1000 if jobs else float("nan")
    rate = jobs / result["elapsed"]
    print(f"{name}: {result['elapsed']:.1f} s, results applied {jobs:.0f} ({rate:.0f}"
          f"/s), hub CPU {result['cpu']:.1f} s ({result['cpu'] / result['elapsed']:.0%} of a core, "
          f"{per_job:.3f} ms per job), loop turns {turns['count']}: p50 {turns['p50_ms']:.2f} ms "
          f"p99 {turns['p99_ms']:.2f} ms, over 10 ms {turns['over_10ms']:.2%}, "
          f"RSS {result['rss']:.0f} MB")
    cpu_turns = result["cpu_turns"]
    print(f"  loop thread CPU per turn: p50 {cpu_turns['p50_ms']:.2f} ms p99 "
          f"{cpu_turns['p99_ms']:.2f} ms, over 10 ms {cpu_turns['over_10ms']:.2%}")
    for kind, tally in result["tallies"]:
        if kind != "listener":
            print(f"  {kind}: {tally}")
    listeners = [t for k, t in result["tallies"] if k == "listener"]
    if listeners:
        rtts = sorted(r for t in listeners for r in t["rtts"])
        print(f"  listeners: {sum(t['acked'] for t in listeners)} reports of "
              f"{listeners[0]['per_report']} names acknowledged, rtt p50 "
              f"{rtts[len(rtts) // 2] * 1000 if rtts else 0:.1f} ms p99 "
              f"{rtts[int(len(rtts) * 0.99)] * 1000 if rtts else 0:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--saturation-jobs", type=int, default=10_000)
    parser.add_argument("--listeners", type=int, default=4)
    parser.add_argument("--point-interval", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--capacity", type=int, default=32)
    parser.add_argument("--refresh", type=float, default=300.0)
    parser.add_argument("--real-workers", type=int, default=0,
                        help="real enodo-worker processes and the development SiriDB")
    parser.add_argument("--history", type=int, default=72,
                        help="hourly points of each series in SiriDB (with --real-workers)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="enodo-scale-"))
    names = [series_name(i) for i in range(args.series)]
    metrics_port = free_port()
    db, real, seed_options, hub_env = None, [], {}, {}
    if args.real_workers:
        end_ms = (int(time.time() * 1000) // 3_600_000 - 1) * 3_600_000
        db, took = start_siridb(names, args.history, end_ms)
        print(f"siridb: {args.series} series of {args.history} points in {took:.1f} s")
        model, state = trained_state(history(args.history, end_ms))
        seed_options, hub_env = {"model": model, "state": state, "last_ts": end_ms}, siridb_env(db)
    workers = args.real_workers or args.workers
    hub = HubProcess(tmp, {"ENODO_HUB_TOKEN": TOKEN, "ENODO_HUB_LOG_LEVEL": "WARNING",
                           "ENODO_HUB_METRICS_PORT": str(metrics_port),
                           "ENODO_HUB_HEARTBEAT_INTERVAL": "1.0", **hub_env})
    seeded = seed_store(str(hub.data_dir), args.series, 5, 24, **seed_options)
    progress(f"seeded {args.series} series in {seeded['seconds']:.1f} s")
    print(f"seed: {args.series} series in {seeded['seconds']:.1f} s, SQLite "
          f"{sqlite_mb(hub.data_dir):.0f} MB")
    api = None
    try:
        start_s, start_cpu = serving_after(hub, names[-1])
        print(f"start: serving {start_s:.2f} s after the hub started ({start_cpu:.2f} s of "
              f"hub CPU), RSS {rss_mb(hub.proc.pid):.0f} MB")
        configure(hub)
        if db is not None:
            real = start_workers(tmp, hub, db, args.real_workers)
        api = Gunicorn("api.wsgi:app", workers=2, env={
            "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_ACCESS_LOG": "off"}).start()
        probe = RestProbe(api, names).start()
        rate = args.series / args.refresh
        progress(f"steady phase: {rate:.0f} jobs/s offered for {args.duration:.0f} s")
        steady = phase(hub, metrics_port, peers(args, hub, names), driver(hub, names, rate),
                       args.duration, workers)
        rest = probe.stop()
        report_phase("steady", steady)
        for kind, figures in rest.items():
            print(f"  REST {kind}: {figures}")
        progress(f"saturation phase: {args.saturation_jobs} jobs as fast as answered")
        jobs = names[: args.saturation_jobs]
        sat = phase(hub, metrics_port, peers(args, hub, names), driver(hub, jobs, 0), 600.0,
                    workers, target=len(jobs))
        report_phase("saturation", sat)
        print(f"memory: RSS {rss_mb(hub.proc.pid):.0f} MB (peak {rss_mb(hub.proc.pid, 'VmHWM'):.0f}"
              f" MB), SQLite {sqlite_mb(hub.data_dir):.0f} MB")
        hub.stop(timeout=120)
        restart_s, restart_cpu = serving_after(hub, names[-1])
        print(f"restart after SIGTERM: serving in {restart_s:.2f} s ({restart_cpu:.2f} s CPU)")
        burst = peers(args, hub, names)
        burst.start("driver", driver_main, *driver(hub, names[-args.saturation_jobs:], 0))
        time.sleep(3.0)  # a bench's pacing: the hub is mid-burst when it is killed
        hub.proc.send_signal(signal.SIGKILL)
        hub.proc.wait(10)
        burst.stop(timeout=5)
        killed_s, killed_cpu = serving_after(hub, names[-1])
        print(f"restart after kill -9 mid-burst: serving in {killed_s:.2f} s "
              f"({killed_cpu:.2f} s CPU)")
        if db is not None:
            print(f"siridb: forecasts written for {forecasts_written(db, names)} of "
                  f"{args.series} series")
        per_job = sat["cpu"] / sat["jobs"] * 1000 if sat["jobs"] else float("nan")
        print(f"scale: series={args.series} rss_mb={steady['rss']:.0f} "
              f"turn_p99_ms={steady['turns']['p99_ms']:.1f} "
              f"restart_s={max(restart_s, killed_s):.2f} "
              f"hub_cpu_per_job_ms={per_job:.3f} jobs_per_s={sat['jobs'] / sat['elapsed']:.0f}")
    finally:
        if api is not None:
            api.stop()
        stop_all(real, db)
        if hub.proc is not None and hub.proc.poll() is None:
            hub.stop(timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)  # 3 GB at a million series
    return 0


if __name__ == "__main__":
    sys.exit(main())
