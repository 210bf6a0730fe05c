"""The cheap half of the NAB bench: what each forecast job's detector sees, and fast replays.

`observations` replays a file's forecast jobs (bench.nab_stream) through the functions a
FORECAST_SERIE job judges with (`actors.worker.detection`: first_new, forecast_bands, and
`actors.worker.views.observe` over the points the job reads), giving each judged point's view
surprises, for one calibration window of the baseline (`error_points`). They do not depend on the
decision settings, so `alerts` can replay the decision (threshold, enabled views, combination,
events) for many settings in a fraction of a second; `detector_alerts` is the product's own
`Detector` over the same observations, which the bench uses for its headline and checks `alerts`
against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from actors.worker.baseline import ERROR_POINTS
from actors.worker.detection import history_read, observe_new
from actors.worker.detector import ESCALATION, AnomalySettings, Detector
from actors.worker.models.base import Forecast
from actors.worker.views import Observation, ViewState
from bench.nab_data import DataFile
from protocol.anomaly import VIEWS


@dataclass
class Observed:
    """One file's judged rows, their observations, and the surprise matrix (rows x VIEWS)."""

    rows: np.ndarray
    observations: list[Observation]
    surprise: np.ndarray


def observations(
    data: DataFile, jobs: list[dict], level: float, error_points: int = ERROR_POINTS
) -> Observed:
    """Every point the file's forecast jobs judge, observed as those jobs observe it (with the
    baseline's calibration window error_points; a job reads as much history as it needs)."""
    read = history_read(error_points)
    state = ViewState()
    last_ts: int | None = None
    previous: Forecast | None = None
    stamps = [int(t) for t in data.seconds]
    values = [float(v) for v in data.values]
    out: list[Observation] = []
    for job in jobs:
        end = job["rows"]
        lo = max(0, end - read)
        seen = observe_new(state, last_ts, stamps[lo:end], values[lo:end], previous, level,
                           error_points=error_points)
        out.extend(seen)
        if seen:
            last_ts = seen[-1].timestamp
        forecast = job["forecast"]
        previous = None if forecast is None else Forecast.from_json(forecast)
    rows = np.searchsorted(data.seconds, [o.timestamp for o in out])
    matrix = np.zeros((len(out), len(VIEWS)))
    for r, obs in enumerate(out):
        for c, name in enumerate(VIEWS):
            matrix[r, c] = obs.surprise.get(name, 0.0)
    return Observed(np.asarray(rows, dtype=np.int64), out, matrix)


def alerts(
    seen: Observed, views: tuple[str, ...], combine: str, threshold: float, event_gap: int,
) -> tuple[list[int], np.ndarray]:
    """(alert rows, scores) of the default decision (both directions, 1 of 1) for these knobs.

    The same rule as `Detector.judge` and `_track` with direction both, k = n = 1 and no minimum
    deviation, vectorised over the judged points (checked against it by the bench and tests).
    """
    if len(seen.rows) == 0:
        return [], np.zeros(0)
    columns = [VIEWS.index(v) for v in views]
    picked = np.sort(seen.surprise[:, columns], axis=1)[:, ::-1]
    rank = 1 if combine == "consensus" else 0
    combined = picked[:, rank] if picked.shape[1] > rank else np.zeros(len(seen.rows))
    scores = combined / threshold
    out: list[int] = []
    open_at = -1          # index of the last anomalous point of the open event (-1: none)
    alerted = 0.0
    for j in np.flatnonzero(scores > 1.0):
        if open_at < 0 or j - open_at > event_gap:
            out.append(int(seen.rows[j]))
            alerted = scores[j]
        elif scores[j] >= ESCALATION * alerted:
            out.append(int(seen.rows[j]))
            alerted = scores[j]
        open_at = j
    return out, scores


def detector_alerts(
    seen: Observed, settings: AnomalySettings, sensitivity: float, level: float
) -> tuple[list[int], np.ndarray]:
    """(alert rows, scores) from the product's Detector over the same observations."""
    detector = Detector(settings, None, sensitivity, level)
    out: list[int] = []
    scores = np.zeros(len(seen.rows))
    for j, (row, obs) in enumerate(zip(seen.rows, seen.observations, strict=True)):
        verdict = detector.judge(obs)
        if verdict is None:
            continue
        scores[j] = verdict.score
        if verdict.alert:
            out.append(int(row))
    return out, scores
