"""Score what Enodo ships on NAB: leave-one-group-out, false alarms, results CSVs.

Usage: python -m bench.nab [--data-dir DIR] [--labels FILE] [--tune-dir DIR] [--results-dir DIR]
       [--cache-dir DIR] [--processes N] [--model NAME] [--verbose]

Each file is replayed as a series added with no options: the hub's default settings and the
`auto` model, its train, fit and forecast jobs run through the worker's JobRunner as the hub would
schedule them, point by point (bench.nab_stream, cached: the expensive part). Each forecast job's
points are then judged with the functions the job judges with (bench.nab_views): the views'
surprises do not depend on the decision settings, so those can be tuned cheaply.

What is tuned (bench.nab_tune): the baseline's calibration window (how many of its own errors the
views' tails are fitted on), the anomaly sensitivity, which views count and how they combine.
On the shipped NAB groups the headline is leave-one-group-out: each group is scored with the
choice made on the other four, never on itself. A --data-dir elsewhere is scored with the choice
made on --tune-dir (default: the shipped groups). The shipped defaults (actors/worker/detector.py)
are printed with their in-sample score; the last line is the leave-one-group-out score:
`NAB standard score: X`.
"""

from __future__ import annotations

from actors.common.blas import one_blas_thread

one_blas_thread()  # before numpy loads (actors/common/blas.py)

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from actors.worker.baseline import CALIBRATIONS, ERROR_POINTS  # noqa: E402
from actors.worker.detector import (  # noqa: E402
    DEFAULT_COMBINE,
    DEFAULT_SENSITIVITY,
    DEFAULT_VIEWS,
    AnomalySettings,
)
from bench import nab_tune  # noqa: E402
from bench.nab_data import DataFile, load_corpus, write_results  # noqa: E402
from bench.nab_report import false_alarms, report_groups  # noqa: E402
from bench.nab_score import summarise  # noqa: E402
from bench.nab_stream import Pipeline, all_jobs  # noqa: E402
from bench.nab_tune import Choice, Seen, observe_all, score_choice, subset, tune  # noqa: E402
from bench.nab_views import detector_alerts  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO / "bench" / "data" / "nab"
CACHE = REPO / "bench" / ".cache" / "nab"


def load(data_dir: Path, labels: Path | None) -> list[DataFile]:
    """A NAB-format folder (its data/ folder or the one holding data/ and labels/)."""
    if (data_dir / "data").is_dir():
        data_dir = data_dir / "data"
    labels = labels or data_dir.parent / "labels" / "combined_windows.json"
    return load_corpus(data_dir, labels)


def prepare(
    files: list[DataFile], cfg: Pipeline, cache: Path, processes: int, model: bool = True,
    calibrations: tuple[int, ...] = CALIBRATIONS,
) -> Seen:
    """Run (or read from the cache) the jobs of every file, then observe their points."""
    jobs = all_jobs(files, cfg, cache, processes, model)
    return observe_all(files, jobs, cfg.interval_level, processes, calibrations)


def logo(files: list[DataFile], seen: Seen) -> tuple[list[Choice], list[str]]:
    """For each file, the choice tuned on the other groups; the groups in order."""
    groups = sorted({f.group for f in files})
    chosen: dict[str, Choice] = {}
    for group in groups:
        keep = [k for k, f in enumerate(files) if f.group != group]
        chosen[group] = tune([files[k] for k in keep], subset(seen, keep))
        print(f"  without {group:<24} chose {chosen[group]}")
    return [chosen[f.group] for f in files], groups


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, tune, score, print; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED,
                        help="a NAB-format folder to score (default: the shipped groups)")
    parser.add_argument("--labels", type=Path, help="windows JSON (default: next to data/)")
    parser.add_argument("--tune-dir", type=Path, default=SHARED,
                        help="the folder the knobs are chosen on when --data-dir is another")
    parser.add_argument("--results-dir", type=Path, help="write NAB results CSVs here")
    parser.add_argument("--cache-dir", type=Path, default=CACHE, help="the jobs' cache")
    parser.add_argument("--processes", type=int, default=2, help="at most 2 on a shared box")
    parser.add_argument("--model", default=Pipeline.model,
                        help="experiments only: the headline is the default model")
    parser.add_argument("--no-model", action="store_true",
                        help="skip the model's jobs (the forecast view is left out of the "
                             "choice; the other views and the job schedule are the same)")
    parser.add_argument("--calibrations", default=",".join(map(str, CALIBRATIONS)),
                        help="the calibration windows to choose among, comma separated "
                             f"(the shipped one, {ERROR_POINTS}, must be among them)")
    parser.add_argument("--verbose", action="store_true", help="a line per file")
    args = parser.parse_args(argv)
    calibrations = tuple(int(w) for w in args.calibrations.split(","))
    if ERROR_POINTS not in calibrations:
        parser.error(f"--calibrations must hold the shipped window {ERROR_POINTS}")
    if args.no_model:
        nab_tune.VIEW_SETS = tuple(v for v in nab_tune.VIEW_SETS if "forecast" not in v)
    cfg = Pipeline(model=args.model)
    started = time.perf_counter()
    print(f"pipeline: {cfg} (a series added with no options); jobs cached in {args.cache_dir}")
    tune_files = load(args.tune_dir, None)
    model = not args.no_model
    print("model jobs: " + ("run (or cached)" if model else "skipped (--no-model)"))
    tune_seen = prepare(tune_files, cfg, args.cache_dir, args.processes, model, calibrations)
    shipped = Choice(DEFAULT_VIEWS, DEFAULT_COMBINE, DEFAULT_SENSITIVITY)
    chosen = tune(tune_files, tune_seen)
    in_sample = summarise(score_choice(tune_files, tune_seen, [shipped] * len(tune_files))[0])
    print(f"chosen on all of {args.tune_dir} ({len(tune_files)} files): {chosen}; shipped "
          f"defaults: {shipped}, in-sample score {in_sample.score:.1f}")
    if _same(args.data_dir, args.tune_dir):
        files, seen = tune_files, tune_seen
        print(f"NAB benchmark: {args.data_dir} ({len(files)} files, "
              f"{sum(len(f.values) for f in files):,} points), leave one group out:")
        choices, _ = logo(files, seen)
    else:
        files = load(args.data_dir, args.labels)
        seen = prepare(files, cfg, args.cache_dir, args.processes, model, calibrations)
        print(f"NAB benchmark: {args.data_dir} ({len(files)} files), scored with {chosen}, "
              f"chosen on {args.tune_dir} without it")
        choices = [chosen] * len(files)
    scores, alert_rows, point_scores = score_choice(files, seen, choices)
    if args.results_dir is not None:
        for data, rows, values in zip(files, alert_rows, point_scores, strict=True):
            write_results(args.results_dir, data, values, rows)
        print(f"results: {len(files)} CSV files under {args.results_dir}")
    check_product(files, seen, shipped)
    if _same(args.tune_dir, SHARED) and args.model == Pipeline.model:
        false_alarms(tune_files, tune_seen[shipped.calibration], shipped, cfg, args.cache_dir,
                     model)
    print(f"time: {time.perf_counter() - started:.1f} s wall")
    report_groups(files, scores, args.verbose)
    return 0


def _same(a: Path, b: Path) -> bool:
    """The same NAB folder (either may name its data/ folder)."""
    def root(p: Path) -> Path:
        p = p.resolve()
        return p.parent if p.name == "data" and (p.parent / "labels").is_dir() else p
    return root(a) == root(b)


def check_product(files: list[DataFile], seen: Seen, default: Choice) -> None:
    """The vectorised replay must give the product Detector's alerts (shipped defaults)."""
    _, rows, _ = score_choice(files, seen, [default] * len(files))
    settings = AnomalySettings(views=default.views, combine=default.combine)
    for data, observed, fast in zip(files, seen[default.calibration], rows, strict=True):
        product, _ = detector_alerts(observed, settings, default.sensitivity, 0.95)
        if product != fast:
            raise SystemExit(f"{data.name}: the replay differs from the Detector's alerts")


if __name__ == "__main__":
    raise SystemExit(main())
