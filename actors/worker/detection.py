"""The worker's side of anomaly detection: judge a job's new points, shape what it returns.

A FORECAST_SERIE job judges the points that arrived since the previous one with
`actors.worker.detector`: against the previous forecast when the series has a model, against the
cold-start interval (median and MAD of the points before each one) when it has none yet. The
detector's settings come in the job's `settings.anomaly`, its state in `context.detector`; the
result carries the anomalous points, the events they opened, extended or closed, and the new
state for the hub to keep.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actors.worker.anomalies import score_points
from actors.worker.detector import (
    COLD_START_WINDOW,
    AnomalySettings,
    Detector,
    cold_start_intervals,
)
from actors.worker.models.base import Forecast

log = logging.getLogger(__name__)

#: Points a cold-start job judges at most (a series that waits long for its model).
MAX_COLD_START_JUDGED = 1000
#: Points a cold-start job reads: the judged ones and the window before them.
COLD_START_READ = COLD_START_WINDOW + MAX_COLD_START_JUDGED


@dataclass
class Detection:
    """What judging a job's points gave."""

    anomalies: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    judged: int = 0

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


def detector_for(settings: Mapping[str, Any], context: Any) -> Detector:
    """A detector with the job's settings and the state the hub kept."""
    state = context.get("detector") if isinstance(context, Mapping) else None
    return Detector(anomaly_settings(settings), state)


def judge_forecast(
    detector: Detector, previous: Forecast, points: Sequence[tuple[int, float]]
) -> Detection:
    """Judge the points against the previous forecast's interval, in time order."""
    scored = score_points(previous, [p[0] for p in points], [p[1] for p in points])
    verdicts = [detector.judge(a.timestamp, a.value, a.expected, a.lower, a.upper)
                for a in sorted(scored, key=lambda a: a.timestamp)]
    return _detection(detector, verdicts)


def cold_start_start(points: Sequence[tuple[int, float]], last_ts: int | None) -> int:
    """Index of the first point a cold-start job judges: after last_ts, at most the last 1000."""
    start = max(0, len(points) - MAX_COLD_START_JUDGED)
    if last_ts is not None:
        while start < len(points) and points[start][0] <= last_ts:
            start += 1
    return start


def judge_cold_start(
    detector: Detector, points: Sequence[tuple[int, float]], level: float
) -> Detection:
    """Judge the new points against the median and MAD of the points before each one."""
    values = [float(p[1]) for p in points]
    start = cold_start_start(points, detector.state.last_ts)
    verdicts = [
        detector.judge(int(points[i][0]), values[i], expected, lower, upper)
        for i, expected, lower, upper in cold_start_intervals(values, start, level)
    ]
    return _detection(detector, verdicts)


def _detection(detector: Detector, verdicts: list[Any]) -> Detection:
    judged = [v for v in verdicts if v is not None]
    return Detection(
        anomalies=[v.to_json() for v in judged if v.anomalous],
        events=detector.events(),
        state=detector.state.to_json(),
        judged=len(judged),
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
