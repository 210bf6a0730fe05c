"""Listener counting rate (framer + decode + counter) as a ratio to qpack.unpackb alone.

Run: python -m bench.listener_count [--runs N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import qpack

from actors.listener.counter import PointCounter
from actors.listener.tee import TeeFramer, count_points, decode_counts, encode_package

SERIES_POOL = 10_000
WATCHED_SHARE = 0.1
REALTIME_SHARE = 0.01
CHUNK = 256 * 1024  # what an asyncio transport reads at most per call
TS0 = 1_700_000_000_000


CASES = [  # label, packages, series per package, points per series, counts toward the goal
    ("1k-point packages (10 series x 100 points)", 1000, 10, 100, True),
    ("100-point packages (10 series x 10 points)", 10_000, 10, 10, True),
    ("100-point packages (100 series x 1 point, worst case)", 3000, 100, 1, False),
]


def series_name(i: int) -> str:
    return f"host{i // 10:04d}.metric{i % 10}.value"


def make_stream(
    n_packages: int, series_per_package: int, points_per_series: int, rng: random.Random
) -> bytes:
    """Tee packages as SiriDB writes them: random series of the pool, int and float values."""
    packages = []
    for _ in range(n_packages):
        names = rng.sample(range(SERIES_POOL), series_per_package)
        series = {}
        for idx in names:
            step = rng.choice((1000, 10_000, 60_000))
            start = TS0 + rng.randrange(10**9)
            is_float = idx % 3 != 0
            series[series_name(idx)] = [
                [start + j * step, rng.uniform(-1e3, 1e3) if is_float else rng.randrange(10**6)]
                for j in range(points_per_series)
            ]
        packages.append(encode_package(series))
    return b"".join(packages)


def run_listener(chunks: list[bytes], counter: PointCounter) -> None:
    """What the tee server does per read: frame, count_watched, add_raw."""
    framer = TeeFramer()
    add_raw = counter.add_raw
    count_watched = counter.count_watched
    for chunk in chunks:
        for body in framer.feed(chunk):
            add_raw(count_watched(body))
    counter.take()


def run_listener_all(chunks: list[bytes], counter: PointCounter) -> None:
    """The same counting every series of each package (count_points without `only`)."""
    framer = TeeFramer()
    add_raw = counter.add_raw
    for chunk in chunks:
        for body in framer.feed(chunk):
            add_raw(count_points(body))
    counter.take()


def run_listener_str(chunks: list[bytes], counter: PointCounter) -> None:
    """The same with every name decoded to str (decode_counts, PointCounter.add)."""
    framer = TeeFramer()
    add = counter.add
    for chunk in chunks:
        for body in framer.feed(chunk):
            add(decode_counts(body))
    counter.take()


def run_unpackb(bodies: list[bytes]) -> None:
    unpackb = qpack.unpackb
    for body in bodies:
        unpackb(body)


def timed(fn: Callable[..., None], *args: object) -> float:
    """CPU seconds of one call: other processes on the machine barely disturb it."""
    t0 = time.process_time()
    fn(*args)
    return time.process_time() - t0


def make_counter(rng: random.Random) -> tuple[PointCounter, int]:
    """Watch 10% of the series pool, a tenth of those realtime."""
    pool = [series_name(i) for i in range(SERIES_POOL)]
    watched = rng.sample(pool, int(SERIES_POOL * WATCHED_SHARE))
    n_realtime = int(SERIES_POOL * REALTIME_SHARE)
    counter = PointCounter()
    counter.replace(watched[n_realtime:], realtime=watched[:n_realtime])
    return counter, len(watched)


VARIANTS = [  # label, function; the first is what the listener runs
    ("listener: count_watched + add_raw", run_listener),
    ("every series: count_points + add_raw", run_listener_all),
    ("str names: decode_counts + add", run_listener_str),
]


def main() -> None:
    parser = argparse.ArgumentParser(description="Listener counting rate vs qpack.unpackb.")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per figure (median)")
    args = parser.parse_args()
    rng = random.Random(42)
    counter, n_watched = make_counter(rng)
    print(
        f"series pool {SERIES_POOL}, watched {n_watched}, reads of {CHUNK // 1024} KiB, "
        f"median of {args.runs} interleaved runs (CPU time); ratio = rate / qpack.unpackb rate"
    )
    goal_ratios = []
    for label, n_packages, n_series, n_points, in_goal in CASES:
        stream = make_stream(n_packages, n_series, n_points, rng)
        chunks = [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]
        bodies = list(TeeFramer().feed(stream))
        points = n_packages * n_series * n_points
        times: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
        times["base"] = []
        run_listener(chunks, counter)  # warm up
        for _ in range(args.runs):  # interleaved, so that machine noise hits all alike
            times["base"].append(timed(run_unpackb, bodies))
            for name, fn in VARIANTS:
                times[name].append(timed(fn, chunks, counter))
        rate = {k: points / statistics.median(v) for k, v in times.items()}
        best = {k: points / min(v) for k, v in times.items()}
        print(f"{label}: {n_packages} packages, {points} points, {len(stream) / 1e6:.1f} MB")
        print(f"  {'qpack.unpackb alone':38} {rate['base'] / 1e6:6.2f} M points/s (median)")
        for name, _ in VARIANTS:
            ratio, best_ratio = rate[name] / rate["base"], best[name] / best["base"]
            print(
                f"  {name:38} {rate[name] / 1e6:6.2f} M points/s  ratio {ratio:.2f}"
                f"  (best runs: {best_ratio:.2f})"
            )
        if in_goal:
            goal_ratios.append(rate[VARIANTS[0][0]] / rate["base"])
    print(f"listener ratio, 1k- and 100-point cases: min {min(goal_ratios):.2f} (goal >= 0.70)")


if __name__ == "__main__":
    main()
