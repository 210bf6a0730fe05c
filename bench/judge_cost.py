"""CPU a forecast job spends judging its new points, per calibration window of the baseline.

Usage: python -m bench.judge_cost [--rounds 15] [--step 300]

A 5-minute series (a daily cycle and noise) with more history than any window reads; for each
window in `baseline.CALIBRATIONS`, the job's read (`detection.history_read(window)` points)
and its 20 new points judged as a FORECAST_SERIE job judges them (`views.observe`), `--rounds`
times; the median CPU time per job, and its ratio to the window of 2,000 (the one shipped
before 2026-12-03) in the same run.
"""

from __future__ import annotations

from actors.common.blas import one_blas_thread

one_blas_thread()  # before numpy loads (actors/common/blas.py)

import argparse  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from actors.worker.baseline import CALIBRATIONS, CHUNK, ERROR_POINTS  # noqa: E402
from actors.worker.detection import history_read  # noqa: E402
from actors.worker.views import ViewState, observe  # noqa: E402


def series(points: int, step: int, seed: int = 1) -> tuple[list[int], list[float]]:
    """A daily cycle of `step`-second points with unit noise."""
    rng = random.Random(seed)
    day = 86400 // step
    stamps = [1_700_000_000 + step * i for i in range(points)]
    values = [50 + 10 * math.sin(2 * math.pi * i / day) + rng.gauss(0, 1) for i in range(points)]
    return stamps, values


def judge_cpu(stamps: list[int], values: list[float], window: int, rounds: int) -> float:
    """Median CPU seconds to judge the last CHUNK points against the read before them."""
    read = history_read(window)
    s, v = stamps[-read:], values[-read:]
    observe(s, v, len(s) - CHUNK, ViewState(), error_points=window)  # warm up
    times = []
    for _ in range(rounds):
        started = time.process_time()
        observe(s, v, len(s) - CHUNK, ViewState(), error_points=window)
        times.append(time.process_time() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Print a line per window, then the shipped one's ratio; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--step", type=int, default=300, help="seconds between points")
    args = parser.parse_args(argv)
    stamps, values = series(history_read(max(CALIBRATIONS)), args.step)
    cpu = {w: judge_cpu(stamps, values, w, args.rounds) for w in CALIBRATIONS}
    for window, seconds in cpu.items():
        read = history_read(window)
        print(f"window {window:>6} errors: reads {read:,} points, judging {CHUNK} points "
              f"{seconds * 1000:.1f} ms CPU (median of {args.rounds}), "
              f"{seconds / cpu[2000]:.2f} x the window of 2,000")
    print(f"judge cost: shipped window {ERROR_POINTS}: {cpu[ERROR_POINTS] * 1000:.1f} ms CPU, "
          f"{cpu[ERROR_POINTS] / cpu[2000]:.2f} x the window of 2,000")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
