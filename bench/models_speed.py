"""Time train, fit and forecast per model on synthetic hourly series; print medians.

Usage: python -m bench.models_speed [--sizes 1000 10000] [--runs 7] [--models arima ets ...]

Each run trains on n points, fits on the same history plus 24 new points (the cheap update the
hub schedules between retrains) and forecasts 48 steps. Figures are medians over the runs, after
one warm-up run that pays for imports and the Stan model load. Wall-clock times suffer when the
machine is shared, so CPU times (this process and its children: Prophet runs Stan as a
subprocess) are printed too.

BLAS runs single-threaded unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS say otherwise: a worker
runs one model per core, and OpenBLAS threads on the Kalman filter's tiny matrices only cost.
"""

from __future__ import annotations

import os

from actors.common.blas import one_blas_thread

one_blas_thread()  # before numpy loads (actors/common/blas.py)

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from actors.worker.models.registry import MODELS, get_model  # noqa: E402

HOUR_MS = 3_600_000
NEW_POINTS = 24
HORIZON = 48


def series(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hourly trend + daily cycle + weekly bump + noise, n points."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = (
        100 + 0.02 * t + 8 * np.sin(2 * np.pi * t / 24) + 2 * np.sin(2 * np.pi * t / 168)
        + rng.normal(0, 1.5, n)
    )
    return 1_700_000_000_000 + t * HOUR_MS, values


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def one_run(name: str, n: int, seed: int) -> dict[str, float]:
    """Wall and CPU seconds for train, fit, forecast, plus the state size and hold-out MASE."""
    model = get_model(name)
    ts, values = series(n + NEW_POINTS + HORIZON, seed)
    marks = [(time.perf_counter(), cpu_seconds())]
    state = model.train(ts[:n], values[:n], {})
    marks.append((time.perf_counter(), cpu_seconds()))
    state = model.fit(state, ts[: n + NEW_POINTS], values[: n + NEW_POINTS])
    marks.append((time.perf_counter(), cpu_seconds()))
    forecast = model.forecast(state, HORIZON)
    marks.append((time.perf_counter(), cpu_seconds()))
    history, actual = values[: n + NEW_POINTS], values[n + NEW_POINTS:]
    scale = np.mean(np.abs(np.diff(history)))
    timings = {}
    for i, phase in enumerate(("train", "fit", "forecast")):
        timings[phase] = marks[i + 1][0] - marks[i][0]
        timings[f"{phase}_cpu"] = marks[i + 1][1] - marks[i][1]
    return {
        **timings,
        "state_bytes": len(json.dumps(state)),
        "mase": float(np.mean(np.abs(actual - np.asarray(forecast.mean))) / scale),
        "naive_mase": float(np.mean(np.abs(actual - history[-1])) / scale),
    }


def main() -> None:
    """Run the benchmark and print one line per model and size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--models", nargs="+", default=sorted(MODELS), choices=sorted(MODELS))
    args = parser.parse_args()

    print(f"median of {args.runs} runs; fit = +{NEW_POINTS} points; forecast = {HORIZON} steps; "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"{'model':14} {'points':>6} {'train ms':>9} {'fit ms':>8} {'fcst ms':>8} "
          f"{'fit/train':>9} | {'cpu: train':>10} {'fit':>6} {'fcst':>6} | {'state B':>7} "
          f"{'MASE':>5} {'naive':>5}")
    medians: dict[tuple[str, int], dict[str, float]] = {}
    for name in args.models:
        for n in args.sizes:
            one_run(name, min(n, 500), seed=0)  # warm-up: imports, Stan model load
            runs = [one_run(name, n, seed) for seed in range(1, args.runs + 1)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            medians[name, n] = med
            print(
                f"{name:14} {n:>6} {med['train'] * 1e3:>9.0f} {med['fit'] * 1e3:>8.1f} "
                f"{med['forecast'] * 1e3:>8.1f} {med['fit'] / med['train']:>9.2f} | "
                f"{med['train_cpu'] * 1e3:>10.0f} {med['fit_cpu'] * 1e3:>6.0f} "
                f"{med['forecast_cpu'] * 1e3:>6.0f} | {med['state_bytes']:>7.0f} "
                f"{med['mase']:>5.2f} {med['naive_mase']:>5.2f}"
            )
    print_goals(medians)


def print_goals(medians: dict[tuple[str, int], dict[str, float]]) -> None:
    """Check the issue's speed goals at 1,000 points (wall-clock medians)."""
    goals = (
        ("arima", "ARIMA train <= 1 s", lambda m: m["train"], 1.0),
        ("arima", "ARIMA fit <= 50 ms", lambda m: m["fit"], 0.05),
        ("prophet", "Prophet train + forecast <= 0.5 s", lambda m: m["train"] + m["forecast"],
         0.5),
    )
    for name, text, value, limit in goals:
        med = medians.get((name, 1000))
        if med is not None:
            got = value(med)
            print(f"goal {text}: {got * 1e3:.1f} ms {'met' if got <= limit else 'MISSED'}")


if __name__ == "__main__":
    main()
