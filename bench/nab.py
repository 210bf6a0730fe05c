"""Run the streaming anomaly detector over a NAB-format folder and score it (standard profile).

Usage: python -m bench.nab [--data-dir DIR] [--labels FILE] [--results-dir DIR] [--tune-dir DIR]

Each file is fed point by point in time order, as the listener would report it, and handled as
the pipeline handles a series: until min_data_points have arrived the cold-start detector judges
each point (median and MAD of the points before it); then a model is trained, fitted again every
fit_every points (trained again every retrain_every points or retrain_interval seconds of data)
and forecasts horizon steps after each fit; each arriving point is judged against the latest
forecast's interval by `actors.worker.detector`, the code the worker runs. Nothing at time t
uses a point after t. The model is `bench.nab_model` (fast enough to refit every 20 points).

The alert threshold is the detector's rule (score > 1) unless --tune-dir names another NAB-format
folder: the threshold that scores best there is then used here. The scorer is `bench.nab_score`.
"""

from __future__ import annotations

import os

# Before numpy loads: one BLAS thread per process (the files run in parallel processes).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from actors.worker.detector import (  # noqa: E402
    COLD_START_MIN_POINTS,
    COLD_START_WINDOW,
    THRESHOLD,
    AnomalySettings,
    Detector,
    robust_interval,
)
from bench.nab_data import DataFile, load_corpus, write_results  # noqa: E402
from bench.nab_model import RobustSeasonalModel  # noqa: E402
from bench.nab_score import FileScore, score_file, summarise  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_NAB = REPO / "bench" / "data" / "nab"
TUNE_GRID = tuple(float(x) for x in np.round(np.geomspace(0.5, 4.0, 19), 3))


@dataclass(frozen=True)
class Pipeline:
    """The hub's scheduling settings the stream follows (hub defaults, level for alerting)."""

    min_data_points: int = 100
    fit_every: int = 20
    retrain_every: int = 2000
    retrain_interval: float = 86400.0
    horizon: int = 24
    max_points: int = 10_000
    interval_level: float = 0.9999


@dataclass
class Run:
    """One file's judged points: row, expected, lower, upper (for replays) and alerts."""

    name: str
    rows: list[int] = field(default_factory=list)
    bounds: list[tuple[float, float, float]] = field(default_factory=list)
    scores: np.ndarray | None = None
    alerts: list[int] = field(default_factory=list)
    fits: int = 0


def stream(data: DataFile, cfg: Pipeline, settings: AnomalySettings, threshold: float) -> Run:
    """Feed one file through cold start, model and detector as the pipeline would."""
    model = RobustSeasonalModel()
    detector = Detector(settings, None, threshold)
    run = Run(data.name, scores=np.zeros(len(data.values)))
    ts, ys = data.seconds, data.values
    state: dict | None = None
    grid = mean = lower = upper = None
    since_fit = since_train = 0
    trained_at = 0
    for i in range(len(ys)):
        t, y = int(ts[i]), float(ys[i])
        bounds = None
        if grid is not None:
            if grid[0] <= t <= grid[-1]:
                bounds = (float(np.interp(t, grid, mean)), float(np.interp(t, grid, lower)),
                          float(np.interp(t, grid, upper)))
        elif i >= COLD_START_MIN_POINTS:
            bounds = robust_interval(ys[max(0, i - COLD_START_WINDOW):i], cfg.interval_level)
        if bounds is not None:
            verdict = detector.judge(t, y, *bounds)
            if verdict is not None:
                run.rows.append(i)
                run.bounds.append(bounds)
                run.scores[i] = verdict.score
                if verdict.alert:
                    run.alerts.append(i)
        since_fit += 1
        since_train += 1
        history = slice(max(0, i + 1 - cfg.max_points), i + 1)
        if state is None:
            if i + 1 < cfg.min_data_points:
                continue
            retrain = True
        elif since_fit >= cfg.fit_every:
            retrain = since_train >= cfg.retrain_every or t - trained_at >= cfg.retrain_interval
        else:
            continue
        if retrain:
            state = model.train(ts[history], ys[history], {})
            since_train, trained_at = 0, t
        else:
            state = model.fit(state, ts[history], ys[history])
        since_fit = 0
        run.fits += 1
        forecast = model.forecast(state, cfg.horizon, cfg.interval_level)
        grid = np.asarray(forecast.timestamps, dtype=np.float64)
        mean, lower, upper = (np.asarray(v) for v in (forecast.mean, forecast.lower,
                                                      forecast.upper))
    return run


def replay(data: DataFile, run: Run, settings: AnomalySettings, threshold: float) -> list[int]:
    """The alert rows the same judged points give under another threshold."""
    detector = Detector(settings, None, threshold)
    alerts = []
    for i, bounds in zip(run.rows, run.bounds, strict=True):
        verdict = detector.judge(int(data.seconds[i]), float(data.values[i]), *bounds)
        if verdict is not None and verdict.alert:
            alerts.append(i)
    return alerts


def _stream_job(args: tuple[DataFile, Pipeline, AnomalySettings, float]) -> Run:
    return stream(*args)


def run_corpus(
    files: list[DataFile], cfg: Pipeline, settings: AnomalySettings, threshold: float, jobs: int
) -> list[Run]:
    """Stream every file, in parallel processes when jobs > 1 (largest files first)."""
    work = [(f, cfg, settings, threshold) for f in files]
    if jobs <= 1:
        return [_stream_job(w) for w in work]
    order = sorted(range(len(work)), key=lambda k: -len(files[k].values))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        done = dict(zip(order, pool.map(_stream_job, [work[k] for k in order]), strict=True))
    return [done[k] for k in range(len(work))]


def score_runs(files: list[DataFile], alerts: list[list[int]]) -> list[FileScore]:
    """NAB standard-profile score of each file."""
    return [score_file(len(f.values), f.windows, a) for f, a in zip(files, alerts, strict=True)]


def tune(
    files: list[DataFile], cfg: Pipeline, settings: AnomalySettings, jobs: int
) -> tuple[float, float]:
    """(threshold, its score) that scores best on these files, from the grid TUNE_GRID."""
    runs = run_corpus(files, cfg, settings, THRESHOLD, jobs)
    best = (THRESHOLD, -np.inf)
    for threshold in TUNE_GRID:
        alerts = [replay(f, r, settings, threshold) for f, r in zip(files, runs, strict=True)]
        score = summarise(score_runs(files, alerts)).score
        if score > best[1]:
            best = (threshold, score)
    return best


def report(files: list[DataFile], scores: list[FileScore], verbose: bool) -> None:
    """Print a line per group (and per file when verbose), then the totals."""
    print(f"{'group':<28}{'files':>6}{'windows':>9}{'found':>7}{'alerts':>8}{'FP cost':>9}"
          f"{'score':>8}")
    groups: dict[str, list[FileScore]] = {}
    for data, score in zip(files, scores, strict=True):
        groups.setdefault(data.group, []).append(score)
        if verbose:
            norm = "-" if score.normalised is None else f"{score.normalised:.1f}"
            print(f"  {data.name:<58} {score.detected}/{score.windows} alerts {score.alerts:>3}"
                  f" FP {score.fp_cost:6.2f} score {norm}")
    for group, members in groups.items():
        total = summarise(members)
        shown = f"{total.score:8.1f}" if total.windows else f"{'-':>8}"
        print(f"{group:<28}{len(members):>6}{total.windows:>9}{total.detected:>7}"
              f"{total.alerts:>8}{sum(m.fp_cost for m in members):>9.2f}{shown}")
    total = summarise(scores)
    print(f"event level: precision {total.precision:.3f} recall {total.recall:.3f} "
          f"F1 {total.f1:.3f} ({total.true_alerts} of {total.alerts} alerts in a window, "
          f"{total.detected} of {total.windows} windows found)")
    print(f"NAB standard score: {total.score:.1f}")


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, score, print; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_NAB / "data",
                        help="NAB's data/ folder (or the folder holding data/ and labels/)")
    parser.add_argument("--labels", type=Path,
                        help="windows JSON (default: labels/combined_windows.json next to data/)")
    parser.add_argument("--results-dir", type=Path, help="write NAB results CSVs here")
    parser.add_argument("--tune-dir", type=Path,
                        help="another NAB-format folder (data/, labels/) to tune the threshold on")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--verbose", action="store_true", help="a line per file")
    args = parser.parse_args(argv)
    if (args.data_dir / "data").is_dir():
        args.data_dir = args.data_dir / "data"
    if args.labels is None:
        args.labels = args.data_dir.parent / "labels" / "combined_windows.json"
    cfg, settings = Pipeline(), AnomalySettings()
    started = time.perf_counter()
    threshold, origin = THRESHOLD, "the detector's rule (score > 1)"
    if args.tune_dir is not None:
        if (args.tune_dir / "data").resolve() == args.data_dir.resolve():
            parser.error("--tune-dir must not be the folder being scored")
        tune_files = load_corpus(args.tune_dir / "data",
                                 args.tune_dir / "labels" / "combined_windows.json")
        threshold, tuned = tune(tune_files, cfg, settings, args.jobs)
        origin = f"tuned on {args.tune_dir} ({len(tune_files)} files, score {tuned:.1f} there)"
    files = load_corpus(args.data_dir, args.labels)
    print(f"NAB benchmark: {args.data_dir} ({len(files)} files, "
          f"{sum(len(f.values) for f in files):,} points), labels {args.labels}")
    print(f"pipeline: {cfg}")
    print(f"anomaly settings: {settings.to_json()}; threshold {threshold:g}: {origin}")
    runs = run_corpus(files, cfg, settings, threshold, args.jobs)
    scores = score_runs(files, [r.alerts for r in runs])
    if args.results_dir is not None:
        for data, run in zip(files, runs, strict=True):
            write_results(args.results_dir, data, run.scores, run.alerts)
        print(f"results: {len(files)} CSV files under {args.results_dir}")
    fits = sum(r.fits for r in runs)
    cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"time: {time.perf_counter() - started:.1f} s wall, {cpu:.1f} s CPU, "
          f"{args.jobs} processes ({fits:,} model fits)")
    report(files, scores, args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
