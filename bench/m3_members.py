"""M3 combinations offline: each candidate member's forecasts once, then every mix scored.

Usage: python -m bench.m3_members --stride 2 --offset 0 --json even.json [--members ets,theta,...]
       python -m bench.m3_members --score even.json [--top 15]

The first form trains each member (a registered model with its default parameters, or `dotm`
for Theta's dynamic optimised variant) on each series of the chosen part of M3 (see bench.m3:
official horizons, the category's period) and writes its forecast and CPU seconds per series.
The second form scores, without training anything, the mean of every subset of the members and
the median of every subset of three or more (sMAPE, MASE, as bench.m3; a member that failed on
a series is left out of its mixes there, Naive2 when all did), best first by
sMAPE / 12.4 + MASE / 1.33 (the goal of issue 10, both at once), plus each member alone and its
median CPU seconds. Choose a mix on one part and report its score on another: `--stride 2`
and `--stride 2 --offset 1` are complementary halves. BLAS single-threaded, 2 processes.
"""

from __future__ import annotations

from actors.common.blas import one_blas_thread

one_blas_thread()  # before numpy loads (actors/common/blas.py)

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from actors.worker import metrics  # noqa: E402
from bench.m3 import CATEGORIES, load  # noqa: E402

#: Members that are a registered model with parameters other than its defaults.
VARIANTS = {"dotm": ("theta", {"variant": "DOTM"}), "theta_auto": ("theta", {"variant": "auto"})}
AGGREGATES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda f: f.mean(axis=0), "median": lambda f: np.median(f, axis=0)}


def run_members(job: tuple[dict, list[str]]) -> dict:
    """Each member's forecast of one series (None when it fails) and its CPU seconds."""
    from actors.worker.models.registry import get_model

    series, members = job
    horizon, period = CATEGORIES[series["type"]]
    x = np.asarray(series["x"], dtype=np.float64)
    out = {**series, "xx": series["xx"][:horizon], "forecasts": {}, "cpu": {}, "errors": {}}
    for name in members:
        model_name, extra = VARIANTS.get(name, (name, {}))
        model = get_model(model_name)
        params = {"seasonal_period": period if period > 1 else 0, "time_precision": "s", **extra}
        started = time.process_time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                state = model.train(np.arange(len(x)), x, params)
                forecast = np.asarray(model.forecast(state, horizon).mean)
            out["forecasts"][name] = forecast.tolist() if np.all(np.isfinite(forecast)) else None
        except Exception as exc:  # noqa: BLE001 - recorded; the mixes leave the member out
            out["forecasts"][name] = None
            out["errors"][name] = f"{type(exc).__name__}: {exc}"[:200]
        out["cpu"][name] = time.process_time() - started
    return out


def score(rows: list[dict], members: tuple[str, ...], how: str) -> tuple[float, float]:
    """Mean sMAPE and MASE of the `how` of the members' forecasts over the rows."""
    smapes, mases = [], []
    for row in rows:
        horizon, period = CATEGORIES[row["type"]]
        x, actual = np.asarray(row["x"]), np.asarray(row["xx"])
        parts = [row["forecasts"][m] for m in members if row["forecasts"].get(m) is not None]
        forecast = AGGREGATES[how](np.asarray(parts)) if parts else metrics.naive2(
            x, horizon, period)
        smapes.append(metrics.smape(actual, forecast))
        mases.append(metrics.mase(actual, forecast, x, period))
    return float(np.mean(smapes)), float(np.mean(mases))


def report(rows: list[dict], top: int) -> None:
    """Every member alone, then the best `top` mixes."""
    names = list(rows[0]["forecasts"])
    print(f"{len(rows)} series; members alone (sMAPE, MASE, median CPU s, failures):")
    for name in names:
        s, m = score(rows, (name,), "mean")
        cpu = float(np.median([r["cpu"][name] for r in rows]))
        failed = sum(r["forecasts"][name] is None for r in rows)
        print(f"  {name:15} {s:7.3f} {m:7.4f} {cpu:7.4f} {failed:5}")
    mixes = []
    for k in range(2, len(names) + 1):
        for members in itertools.combinations(names, k):
            for how in ("mean", "median") if k >= 3 else ("mean",):
                s, m = score(rows, members, how)
                mixes.append((s / 12.4 + m / 1.33, s, m, how, "+".join(members)))
    print("mixes, best first by sMAPE/12.4 + MASE/1.33:")
    for key, s, m, how, members in sorted(mixes)[:top]:
        print(f"  {key:.4f} sMAPE {s:7.3f} MASE {m:.4f} {how:6} {members}")


def main() -> None:
    """Train the members on a part of M3, or score the mixes of a saved run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=2)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--members", default="ets,theta_auto,dotm,ces,arima,seasonal_naive")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="write the members' forecasts to this file")
    parser.add_argument("--score", help="score the mixes of this file (no training)")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    if args.score:
        with open(args.score) as fh:
            report(json.load(fh), args.top)
        return
    if not args.json or not 0 <= args.offset < args.stride:
        parser.error("--json FILE is needed, and --offset in 0..stride-1")
    members = [m.strip() for m in args.members.split(",") if m.strip()]
    jobs = [(s, members) for s in load(list(CATEGORIES), None, args.stride, args.offset)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        rows = list(pool.imap_unordered(run_members, jobs, chunksize=4))
    with open(args.json, "w") as fh:
        json.dump(rows, fh)
    print(f"{len(rows)} series, {time.perf_counter() - started:.0f} s; scores: "
          f"python -m bench.m3_members --score {args.json}")


if __name__ == "__main__":
    main()
