"""What bench/nab.py prints: the score table, event-level counts, and false alarms.

False alarms are counted with the shipped defaults, per 1,000 judged points: anomalous points
(what the API lists and SiriDB gets) and alerts (events opening or escalating). The series:
NAB's artificialNoAnomaly group, and the demo series from `scripts.demo_data` (its public
generator functions, as the demo loads them: CO2's real weeks, all but the last 300 in one
insert, those 300 live; each sensor's week of history in one insert, then one 4-day cycle live,
the rows of its planted incident and as many after them not counted), under the shipped
defaults (`auto`, not the demo's per-series options).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from actors.worker.detector import DEFAULT_EVENT_GAP
from bench.nab_data import DataFile
from bench.nab_score import FileScore, summarise
from bench.nab_stream import Pipeline, cached_jobs, code_version, run_jobs
from bench.nab_tune import Choice
from bench.nab_views import Observed, alerts, observations


def report_groups(files: list[DataFile], scores: list[FileScore], verbose: bool) -> None:
    """Print a line per group (and per file when verbose), then the pooled totals, last."""
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


def rates(seen: Observed, choice: Choice, first_row: int = 0, stop_row: int | None = None,
          skip: frozenset[int] = frozenset()) -> tuple[float, float, int]:
    """(anomalous points, alerts) per 1,000 judged points in [first_row, stop_row); judged."""
    rows, scores = alerts(seen, choice.views, choice.combine,
                          -math.log10(choice.sensitivity), DEFAULT_EVENT_GAP)
    stop = len(seen.rows) + int(seen.rows.max(initial=0)) + 1 if stop_row is None else stop_row

    def counts(r: int) -> bool:
        return first_row <= r < stop and r not in skip

    counted = [counts(r) for r in seen.rows]
    judged = sum(counted)
    anomalous = sum(1 for c, s in zip(counted, scores, strict=True) if c and s > 1.0)
    alerted = sum(1 for r in rows if counts(r))
    per = 1000.0 / max(1, judged)
    return anomalous * per, alerted * per, judged


def demo_files() -> list[tuple[DataFile, int, frozenset[int]]]:
    """(series, rows loaded at once, rows not counted) for the demo's CO2 and sensors.

    As the demo feeds them (scripts/demo_data.py): CO2's real weeks but the last CO2_LIVE as
    history, those live; each sensor's SENSOR_HISTORY points as history, then one cycle of
    CYCLE points live. The rows of a planted incident, and as many after it (its end is a
    change too), are not counted as false alarms.
    """
    from scripts import demo_data as demo

    co2 = demo.co2_points()
    out = [(_as_file("demo/co2", co2), len(co2) - demo.CO2_LIVE, frozenset[int]())]
    stop = demo.SENSOR_HISTORY + demo.CYCLE
    for sensor in demo.SENSORS:
        planted = frozenset(
            row for incident in demo.INCIDENTS if incident.series == sensor.name
            for row in range(stop) for back in range(incident.length + 1)
            if incident.covers(row - back))
        out.append((_as_file(sensor.name.replace(".", "/"), demo.sensor_points(sensor, 0, stop)),
                    demo.SENSOR_HISTORY, planted))
    return out


def _as_file(name: str, points: list[list[float]]) -> DataFile:
    seconds = np.array([int(t) // 1000 for t, _ in points], dtype=np.int64)
    values = np.array([float(v) for _, v in points])
    return DataFile(name, [str(t) for t in seconds], seconds, values, [])


def false_alarms(
    shared: list[DataFile], seen: list[Observed], choice: Choice, cfg: Pipeline, cache: Path,
    model: bool = True,
) -> None:
    """Print the false-alarm rates of the shipped defaults (see the module docstring)."""
    quiet = [s for f, s in zip(shared, seen, strict=True) if f.group == "artificialNoAnomaly"]
    totals = [rates(s, choice) for s in quiet]
    judged = sum(t[2] for t in totals)
    anomalous = sum(t[0] * t[2] for t in totals) / max(1, judged)
    alerts = sum(t[1] * t[2] for t in totals) / max(1, judged)
    print(f"false alarms, shipped defaults ({choice}), per 1,000 judged points:")
    print(f"  artificialNoAnomaly ({judged:,} points): {anomalous:.2f} anomalous, "
          f"{alerts:.2f} alerts")
    # Demo data arrives faster than real time: a day of wall time (retrain_interval) never
    # passes, retrain_every still does.
    demo_cfg = dataclasses.replace(cfg, retrain_interval=0.0)
    for data, bulk, spikes in demo_files():
        jobs = (cached_jobs(data, demo_cfg, cache, code_version(), bulk) if model
                else run_jobs(data, demo_cfg, bulk, model=False))
        observed = observations(data, jobs, cfg.interval_level, choice.calibration)
        a, b, n = rates(observed, choice, bulk, None, spikes)
        print(f"  {data.name}, live ({n} points, planted incidents not counted): "
              f"{a:.2f} anomalous, {b:.2f} alerts")
