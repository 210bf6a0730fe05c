"""The worker's side of anomaly detection: judge a job's new points, shape what it returns.

A FORECAST_SERIE job reads the series' recent history and judges the points that arrived since
the previous job (`context.detector.last_ts`; with no state yet, those since the previous
forecast was made, else the backlog, at most MAX_JUDGED): `actors.worker.views` observes each
against the seasonal baseline of the points before them and, when the series has one, the
previous forecast's band; `actors.worker.detector` decides with the job's `settings.anomaly`
(and the hub's `anomaly_sensitivity`). Before the first model (cold start) the same happens
without a forecast.
The result carries the anomalous points, the events they opened, extended or closed, and the
new state for the hub to keep.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actors.worker.baseline import ERROR_POINTS, history_points
from actors.worker.detector import (
    COLD_START_MIN_POINTS,
    DEFAULT_SENSITIVITY,
    AnomalySettings,
    Detector,
    check_sensitivity,
)
from actors.worker.models.base import Forecast
from actors.worker.views import Observation, ViewState, observe

log = logging.getLogger(__name__)

#: Points a job judges at most (a series that waited long for its job).
MAX_JUDGED = 1000


def history_read(error_points: int = ERROR_POINTS) -> int:
    """Points a forecast job reads: the history of a baseline with this calibration window,
    and the judged ones."""
    return history_points(error_points) + MAX_JUDGED


#: What a forecast job reads (the shipped calibration window).
HISTORY_READ = history_read()


@dataclass
class Detection:
    """What judging a job's points gave."""

    anomalies: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    judged: int = 0
    verdicts: list[Any] = field(default_factory=list)
    count: int = 0    # points the series holds
    read: int = 0     # points read to judge

    def result_fields(self) -> dict[str, Any]:
        """The keys this adds to a FORECAST_SERIE result."""
        return {"events": self.events, "detector": self.state, "judged": self.judged}


def anomaly_settings(settings: Mapping[str, Any]) -> AnomalySettings:
    """The job's anomaly settings; defaults (and a warning) when they are unusable."""
    try:
        return AnomalySettings.parse(settings.get("anomaly"))
    except ValueError as exc:
        log.warning("ignoring anomaly settings of the job: %s", exc)
        return AnomalySettings()


def global_sensitivity(settings: Mapping[str, Any]) -> float:
    """The hub's anomaly_sensitivity sent with the job; the default when absent or unusable."""
    raw = settings.get("anomaly_sensitivity")
    if raw is None:
        return DEFAULT_SENSITIVITY
    try:
        value = check_sensitivity(raw)
    except ValueError as exc:
        log.warning("ignoring anomaly_sensitivity of the job: %s", exc)
        return DEFAULT_SENSITIVITY
    return DEFAULT_SENSITIVITY if value is None else value


def detector_for(settings: Mapping[str, Any], context: Any, level: float = 0.95) -> Detector:
    """A detector with the job's settings and the state the hub kept."""
    state = context.get("detector") if isinstance(context, Mapping) else None
    return Detector(anomaly_settings(settings), state, global_sensitivity(settings), level)


def first_new(
    timestamps: Sequence[int], last_ts: int | None, since: int | None = None
) -> int:
    """Index of the first point to judge (see the module docstring).

    After last_ts; with no point judged yet, from `since` (the previous forecast's start: what
    arrived after it was made). At most the last MAX_JUDGED, and never one with fewer than
    COLD_START_MIN_POINTS before it (the baseline needs them).
    """
    start = max(COLD_START_MIN_POINTS, len(timestamps) - MAX_JUDGED)
    stamps = np.asarray(timestamps)
    if last_ts is not None:
        start = max(start, int(np.searchsorted(stamps, last_ts, "right")))
    elif since is not None:
        start = max(start, int(np.searchsorted(stamps, since, "left")))
    return start


def forecast_bands(
    previous: Forecast | None, timestamps: Sequence[int]
) -> list[tuple[float, float, float] | None] | None:
    """The previous forecast's (mean, lower, upper) at each timestamp inside its range."""
    if previous is None or not len(previous):
        return None
    first = previous.timestamps[0]
    # Offsets from the first forecast time: nanosecond timestamps overflow float precision.
    grid = (np.asarray(previous.timestamps, dtype=np.int64) - first).astype(np.float64)
    columns = [np.asarray(c, dtype=np.float64) for c in
               (previous.mean, previous.lower, previous.upper)]
    out: list[tuple[float, float, float] | None] = []
    for ts in timestamps:
        if first <= ts <= previous.timestamps[-1]:
            at = float(ts - first)
            out.append(tuple(float(np.interp(at, grid, c)) for c in columns))  # type: ignore
        else:
            out.append(None)
    return out


def observe_new(
    views: ViewState, last_ts: int | None, timestamps: Sequence[int], values: Sequence[float],
    previous: Forecast | None, level: float, unit: float = 1.0,
    error_points: int = ERROR_POINTS,
) -> list[Observation]:
    """Observations of the points after last_ts, against the points before them."""
    since = previous.timestamps[0] if previous is not None and len(previous) else None
    start = first_new(timestamps, last_ts, since)
    if start >= len(timestamps):
        return []
    bands = forecast_bands(previous, timestamps[start:])
    return observe(timestamps, values, start, views, bands, level, unit, error_points)


def judge_points(
    detector: Detector, timestamps: Sequence[int], values: Sequence[float],
    previous: Forecast | None = None, unit: float = 1.0,
) -> Detection:
    """Judge the points after the last judged one against the rest (see the docstring).

    unit: seconds per timestamp unit (the series' time precision).
    """
    observations = observe_new(detector.views, detector.state.last_ts, timestamps, values,
                               previous, detector.level, unit)
    return _detection(detector, [detector.judge(o) for o in observations])


def _detection(detector: Detector, verdicts: list[Any]) -> Detection:
    judged = [v for v in verdicts if v is not None]
    return Detection(
        anomalies=[v.to_json() for v in judged if v.anomalous],
        events=detector.events(),
        state=detector.state.to_json(),
        judged=len(judged),
        verdicts=judged,
    )


def events_name(series: str) -> str:
    """The SiriDB series closed anomaly events are written to."""
    return f"enodo.{series}.anomaly_events"


def event_points(events: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Points for the closed events: at start and end (once when equal), valued the peak score."""
    out: list[list[Any]] = []
    for event in events:
        if event["state"] != "closed":
            continue
        out.append([int(event["start"]), float(event["peak"])])
        if event["end"] != event["start"]:
            out.append([int(event["end"]), float(event["peak"])])
    return out
