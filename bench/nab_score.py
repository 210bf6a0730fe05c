"""NAB scoring, standard profile, written from the two NAB papers (Lavin & Ahmad 2015,
Ahmad et al. 2017); pure functions over row indices, no I/O.

- Each labelled window [a, b] (row indices, inclusive) rewards its first detection by its relative
  position y = -(b - i + 1) / (b - a + 1) in [-1, 0): sigma(y) = 2 / (1 + e^(5y)) - 1, scaled so
  that a detection on the window's first row earns A_TP and one on its last row almost nothing.
  Later detections in the same window neither earn nor cost.
- A detection outside every window is a false positive. Right after a window it costs little and
  the cost grows with the distance: -A_FP * sigma(y) with y = (i - b) / (b - a + 1) > 0 measured
  from the preceding window (sigma falls to -1; y > 3 counts as -1); with no window before it
  the full A_FP.
- A window without a detection costs A_FN.
- The first 15% of the rows, at most 750 (15% of 5,000, as NAB's own scorer caps it: its labels
  put windows after row 750 of long files), is the probationary period: detections there are
  ignored, and a window that ends inside it is not scored (no detector could find it).
- A file's raw score lies between the null detector (no detection: A_FN per window) and the
  perfect detector (one detection on each window's first scorable row); the corpus score is
  100 * sum(raw - null) / sum(perfect - null), so files without windows only cost their false
  positives, as in NAB.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

PROBATION = 0.15
PROBATION_CAP = 750


@dataclass(frozen=True)
class Profile:
    """Application profile weights, signed as in the papers."""

    tp: float = 1.0
    fp: float = -0.11
    fn: float = -1.0
    tn: float = 1.0


STANDARD = Profile()


@dataclass
class FileScore:
    """One file's raw score, its null and perfect bounds, and its counts."""

    raw: float
    null: float
    perfect: float
    windows: int
    detected: int
    alerts: int
    true_alerts: int
    fp_cost: float

    @property
    def normalised(self) -> float | None:
        """100 * (raw - null) / (perfect - null); None for a file without windows."""
        span = self.perfect - self.null
        return None if span <= 0 else 100.0 * (self.raw - self.null) / span


def sigmoid(y: float) -> float:
    """The scaled sigmoid 2 / (1 + e^(5y)) - 1: near 1 at y = -1, 0 at y = 0, -1 for y > 3."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(rows: int, fraction: float = PROBATION, cap: int | None = PROBATION_CAP) -> int:
    """Rows of the probationary period: the first `fraction` of the file, at most cap rows."""
    length = int(math.floor(fraction * rows))
    return length if cap is None else min(length, cap)


def score_file(
    rows: int, windows: Sequence[tuple[int, int]], alerts: Sequence[int],
    profile: Profile = STANDARD, probation: float = PROBATION, cap: int | None = PROBATION_CAP,
) -> FileScore:
    """Score the alert rows of one file against its windows (row index pairs, inclusive)."""
    start = probation_rows(rows, probation, cap)
    wins = sorted((a, b) for a, b in windows if b >= start)
    for (_, b1), (a2, _) in zip(wins, wins[1:], strict=False):
        if a2 <= b1:
            raise ValueError("windows overlap")
    top = sigmoid(-1.0)
    starts = [a for a, _ in wins]
    found = [False] * len(wins)
    raw = fp_cost = 0.0
    scored = true_alerts = 0
    for i in sorted(set(alerts)):
        if i < start or i >= rows:
            continue
        scored += 1
        k = bisect.bisect_right(starts, i) - 1  # the last window starting at or before i
        if k >= 0 and i <= wins[k][1]:
            true_alerts += 1
            if not found[k]:
                found[k] = True
                a, b = wins[k]
                raw += profile.tp * sigmoid(-(b - i + 1) / (b - a + 1)) / top
            continue
        if k >= 0:
            a, b = wins[k]
            cost = -profile.fp * sigmoid((i - b) / (b - a + 1))
        else:
            cost = profile.fp
        raw += cost
        fp_cost += cost
    missed = found.count(False)
    raw += profile.fn * missed
    perfect = 0.0
    for a, b in wins:
        first = max(a, start)
        perfect += profile.tp * sigmoid(-(b - first + 1) / (b - a + 1)) / top
    return FileScore(
        raw=raw, null=profile.fn * len(wins), perfect=perfect, windows=len(wins),
        detected=len(wins) - missed, alerts=scored, true_alerts=true_alerts, fp_cost=fp_cost,
    )


@dataclass
class Summary:
    """Corpus totals: the normalised score and event-level precision, recall and F1."""

    score: float
    precision: float
    recall: float
    f1: float
    windows: int
    detected: int
    alerts: int
    true_alerts: int


def summarise(files: Sequence[FileScore]) -> Summary:
    """Pool file scores: NAB's normalisation over the sums, and event-level counts."""
    raw = sum(f.raw for f in files)
    null = sum(f.null for f in files)
    perfect = sum(f.perfect for f in files)
    span = perfect - null
    score = 100.0 * (raw - null) / span if span > 0 else 0.0
    windows = sum(f.windows for f in files)
    detected = sum(f.detected for f in files)
    alerts = sum(f.alerts for f in files)
    true_alerts = sum(f.true_alerts for f in files)
    precision = true_alerts / alerts if alerts else 0.0
    recall = detected / windows if windows else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Summary(score, precision, recall, f1, windows, detected, alerts, true_alerts)
