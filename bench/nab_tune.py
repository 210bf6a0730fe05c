"""Choosing the knobs on some NAB files: calibration window, sensitivity, views, combination.

The grid is small on purpose (a choice of a few discrete knobs generalises better than many
continuous ones): the baseline's calibration window (`baseline.CALIBRATIONS`: how many of its own
errors each view's tail is fitted on), every set of views holding a point view (forecast or
seasonal), combined with `any`, and a sensitivity from 1e-2 to 1e-10 in half decades. `consensus`
(two views must agree) stays a per-series option but is out of the grid: in it, it won one fold
(without realAdExchange) and scored 18 on the group left out, the leave-one-group-out score falling
from 60.8 to 53.5. The objective is the mean of the groups' NAB standard scores, each group
weighing the same, less what the false alarms of groups without windows cost in points of the
pooled score; pooled over the files, the group with most windows (realTweets) dictated the choice,
and that choice did not carry over to the other groups. Ties go to the earlier entry of the grid.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from actors.worker.baseline import CALIBRATIONS, ERROR_POINTS
from actors.worker.detector import DEFAULT_EVENT_GAP
from bench.nab_data import DataFile, map_files
from bench.nab_score import FileScore, score_file, summarise
from bench.nab_views import Observed, alerts, observations
from protocol.anomaly import VIEWS

SENSITIVITIES = tuple(10.0 ** -x for x in np.arange(2.0, 10.01, 0.5))
POINT_VIEWS = ("forecast", "seasonal")
COMBINES = ("any",)
VIEW_SETS = tuple(
    combo for size in range(1, len(VIEWS) + 1) for combo in itertools.combinations(VIEWS, size)
    if any(v in POINT_VIEWS for v in combo)
)


@dataclass(frozen=True)
class Choice:
    """The decision knobs the bench tunes."""

    views: tuple[str, ...]
    combine: str
    sensitivity: float
    calibration: int = ERROR_POINTS

    def __str__(self) -> str:
        return (f"views {'+'.join(self.views)}, {self.combine}, "
                f"sensitivity 1e{math.log10(self.sensitivity):g}, "
                f"calibration {self.calibration} errors")


#: Each file's observations, per calibration window.
Seen = dict[int, list[Observed]]


def _observe(args: tuple[DataFile, list[dict], float, int]) -> Observed:
    return observations(*args)


def observe_all(
    files: list[DataFile], jobs: list[list[dict]], level: float, processes: int,
    calibrations: tuple[int, ...] = CALIBRATIONS,
) -> Seen:
    """Observations of every file for each calibration window (in `processes` processes)."""
    out: Seen = {}
    for window in calibrations:
        work = [(f, j, level, window) for f, j in zip(files, jobs, strict=True)]
        out[window] = map_files(_observe, work, files, processes)
    return out


def subset(seen: Seen, keep: list[int]) -> Seen:
    """The observations of the files at these indices."""
    return {window: [files[k] for k in keep] for window, files in seen.items()}


def score_choice(
    files: list[DataFile], seen: Seen, choices: list[Choice]
) -> tuple[list[FileScore], list[list[int]], list[np.ndarray]]:
    """Each file's score, alert rows and per-row scores under its choice."""
    scores, rows, values = [], [], []
    for k, (data, choice) in enumerate(zip(files, choices, strict=True)):
        observed = seen[choice.calibration][k]
        alert_rows, judged = alerts(observed, choice.views, choice.combine,
                                    -math.log10(choice.sensitivity), DEFAULT_EVENT_GAP)
        full = np.zeros(len(data.values))
        full[observed.rows] = judged
        scores.append(score_file(len(data.values), data.windows, alert_rows))
        rows.append(alert_rows)
        values.append(full)
    return scores, rows, values


def tune(files: list[DataFile], seen: Seen) -> Choice:
    """The choice from the grid that scores best on these files (ties: the shipped window)."""
    best: tuple[float, Choice] | None = None
    windows = sorted(seen, key=lambda w: (w != ERROR_POINTS, w))
    for views, combine, sensitivity, window in itertools.product(
            VIEW_SETS, COMBINES, SENSITIVITIES, windows):
        if combine == "consensus" and len(views) < 2:
            continue
        choice = Choice(views, combine, float(sensitivity), window)
        scores, _, _ = score_choice(files, seen, [choice] * len(files))
        score = objective(files, scores)
        if best is None or score > best[0] + 1e-9:
            best = (score, choice)
    if best is None:
        raise ValueError("empty grid")
    return best[1]


def objective(files: list[DataFile], scores: list[FileScore]) -> float:
    """The mean group score, less the quiet groups' false alarms (see the module docstring)."""
    groups: dict[str, list[FileScore]] = {}
    for data, score in zip(files, scores, strict=True):
        groups.setdefault(data.group, []).append(score)
    scored = [summarise(m).score for m in groups.values() if sum(s.windows for s in m)]
    span = sum(s.perfect - s.null for s in scores)
    quiet = sum(s.fp_cost for m in groups.values() if not sum(x.windows for x in m) for s in m)
    return (sum(scored) / len(scored) if scored else 0.0) + (100.0 * quiet / span if span else 0)
