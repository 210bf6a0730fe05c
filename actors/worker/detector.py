"""Streaming anomaly detection: per-series settings, scores, persistence, events, cold start.

Pure logic (numpy and the standard library only), shared by the worker and `bench/nab.py`.
Points are judged one at a time, in arrival order, against an interval (expected, lower, upper)
made before they arrived: a model's forecast, or the cold-start interval below.

- Point score: |y - expected| / the interval's half-width on the point's side (> 1: outside).
- Sustained score: the mean deviation of the last MEAN_WINDOW points, each clipped to its
  interval, over MEAN_RATIO times the point half-width; it catches a shift or a burst too small
  for any single point to leave the interval (a mean of 12 points varies about 1/sqrt(12) as much
  as one point, twice that allowed for the autocorrelation of forecast errors), while one spike
  moves it by at most 1/12 of the interval.
- A point is flagged when a score allowed by the settings exceeds the threshold (1): its direction
  (above, below, both) and its absolute deviation (at least min_deviation) count. It is anomalous
  when at least k of the last n points were flagged (persistence).
- Anomalous points form events: an event opens at the first, takes in the next ones, keeps its peak
  score and closes after event_gap judged points without an anomaly. An alert is raised when an
  event opens, and again when its score reaches ESCALATION times the score of its last alert.
- Cold start (no model yet): the interval is the robust median of the previous
  COLD_START_WINDOW points plus or minus z(level) * 1.4826 * MAD.

The detector's state (persistence flags, recent deviations, the open event, the last judged time)
is a small JSON object: the hub keeps it per series and sends it with the next job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from protocol.anomaly import (  # noqa: F401 - re-exported: the detector's settings
    COLD_START_MIN_POINTS,
    DEFAULT_EVENT_GAP,
    DIRECTIONS,
    MAX_PERSISTENCE,
    AnomalySettings,
)

THRESHOLD = 1.0
MEAN_WINDOW = 12
MEAN_RATIO = 0.6
ESCALATION = 2.0
COLD_START_WINDOW = 100
MAD_TO_SIGMA = 1.4826
MEAN_AD_TO_SIGMA = 1.2533
# A zero-width interval (a model certain of its value) still gives a finite, JSON-safe score.
MIN_HALF_RATIO = 1e-9


@dataclass(frozen=True)
class Verdict:
    """One judged point: its interval, scores, and whether it is anomalous."""

    timestamp: int
    value: float
    expected: float
    lower: float
    upper: float
    score: float          # the largest score the settings let count (compared with 1)
    point_score: float    # |y - expected| / half-width on the point's side
    mean_score: float     # |mean deviation of the last MEAN_WINDOW points| / its half-width
    anomalous: bool
    alert: bool           # an event opened or escalated at this point

    def to_json(self) -> dict[str, Any]:
        """The anomaly record the hub stores and serves."""
        out = asdict(self)
        del out["alert"], out["anomalous"]
        return out


@dataclass
class DetectorState:
    """What the detector remembers between points (and between jobs)."""

    last_ts: int | None = None
    flags: list[int] = field(default_factory=list)
    deviations: list[float] = field(default_factory=list)
    quiet: int = 0
    event: dict[str, Any] | None = None

    @classmethod
    def restore(cls, raw: Mapping[str, Any] | None) -> DetectorState:
        """Rebuild a stored state; anything malformed starts afresh."""
        if not isinstance(raw, Mapping):
            return cls()
        try:
            state = cls(
                last_ts=None if raw.get("last_ts") is None else int(raw["last_ts"]),
                flags=[int(bool(f)) for f in raw.get("flags", [])],
                deviations=[float(d) for d in raw.get("deviations", [])],
                quiet=int(raw.get("quiet", 0)),
                event=_restore_event(raw.get("event")),
            )
        except (KeyError, TypeError, ValueError):
            return cls()
        return state

    def to_json(self) -> dict[str, Any]:
        """Plain dict for ujson/json."""
        return asdict(self)


def _restore_event(raw: Any) -> dict[str, Any] | None:
    """The open event of a stored state; None when absent, ValueError when malformed."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError("event must be an object")
    event = {key: int(raw[key]) for key in ("id", "start", "end", "peak_ts", "points")}
    event.update(peak=float(raw["peak"]), alerted=float(raw.get("alerted", raw["peak"])),
                 state="open")
    return event


class Detector:
    """Judges points in arrival order; collects the events they open, extend and close."""

    def __init__(
        self, settings: AnomalySettings | None = None, state: Mapping[str, Any] | None = None,
        threshold: float = THRESHOLD,
    ) -> None:
        self.settings = settings or AnomalySettings()
        self.state = DetectorState.restore(state)
        self.threshold = threshold
        self.changed: dict[int, dict[str, Any]] = {}  # event id -> its latest version

    def judge(
        self, timestamp: int, value: float, expected: float, lower: float, upper: float
    ) -> Verdict | None:
        """Judge one point; None when it is not after the last judged point or not finite."""
        st, cfg = self.state, self.settings
        if st.last_ts is not None and timestamp <= st.last_ts:
            return None
        if not all(math.isfinite(x) for x in (value, expected, lower, upper)):
            return None
        st.last_ts = timestamp
        deviation = value - expected
        floor = MIN_HALF_RATIO * max(1.0, abs(expected))
        half = max(upper - expected if deviation >= 0 else expected - lower, floor)
        point_score = abs(deviation) / half
        # Clipped to the interval: one spike moves the mean by at most 1/MEAN_WINDOW of it.
        clipped = max(-half, min(half, deviation))
        st.deviations = (st.deviations + [clipped])[-MEAN_WINDOW:]
        mean_score = 0.0
        mean_dev = 0.0
        if len(st.deviations) == MEAN_WINDOW:
            mean_dev = sum(st.deviations) / MEAN_WINDOW
            mean_half = max(MEAN_RATIO * (upper - lower) / 2.0, floor)
            mean_score = abs(mean_dev) / mean_half
        score = max(
            point_score if self._counts(deviation) else 0.0,
            mean_score if self._counts(mean_dev) else 0.0,
        )
        flagged = score > self.threshold
        st.flags = (st.flags + [int(flagged)])[-cfg.n:]
        anomalous = flagged and sum(st.flags) >= cfg.k
        alert = self._track(timestamp, score, anomalous)
        return Verdict(timestamp, value, expected, lower, upper, score, point_score, mean_score,
                       anomalous, alert)

    def _counts(self, deviation: float) -> bool:
        cfg = self.settings
        if deviation == 0 or abs(deviation) < cfg.min_deviation:
            return False
        return cfg.direction == "both" or (deviation > 0) == (cfg.direction == "above")

    def _track(self, timestamp: int, score: float, anomalous: bool) -> bool:
        st = self.state
        event = st.event
        if not anomalous:
            if event is not None:
                st.quiet += 1
                if st.quiet >= self.settings.event_gap:
                    event["state"] = "closed"
                    self._changed(event)
                    st.event = None
            return False
        st.quiet = 0
        if event is None:
            st.event = {"id": timestamp, "start": timestamp, "end": timestamp, "peak": score,
                        "peak_ts": timestamp, "points": 1, "alerted": score, "state": "open"}
            self._changed(st.event)
            return True
        event["end"] = timestamp
        event["points"] += 1
        if score > event["peak"]:
            event["peak"], event["peak_ts"] = score, timestamp
        alert = score >= ESCALATION * event["alerted"]
        if alert:
            event["alerted"] = score
        self._changed(event)
        return alert

    def _changed(self, event: dict[str, Any]) -> None:
        self.changed[event["id"]] = dict(event)

    def events(self) -> list[dict[str, Any]]:
        """Events opened, extended or closed since this detector was made, oldest first."""
        return [public_event(e) for _, e in sorted(self.changed.items())]


def public_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event as served: id, start, end, peak, peak_ts, points, state."""
    keys = ("id", "start", "end", "peak", "peak_ts", "points", "state")
    return {key: event[key] for key in keys}


def normal_z(level: float) -> float:
    """Two-sided standard normal quantile for an interval of this coverage."""
    return NormalDist().inv_cdf((1.0 + level) / 2.0)


def robust_interval(window: Sequence[float], level: float) -> tuple[float, float, float]:
    """(median, lower, upper): median -/+ z(level) * robust sigma (MAD, else mean abs. dev.)."""
    values = np.asarray(window, dtype=np.float64)
    median = float(np.median(values))
    spread = np.abs(values - median)
    sigma = MAD_TO_SIGMA * float(np.median(spread))
    if sigma == 0.0:
        sigma = MEAN_AD_TO_SIGMA * float(np.mean(spread))
    half = normal_z(level) * sigma
    return median, median - half, median + half


def cold_start_intervals(
    values: Sequence[float], start: int, level: float, window: int = COLD_START_WINDOW
) -> list[tuple[int, float, float, float]]:
    """(index, median, lower, upper) for each point from `start`, from the points before it.

    A point with fewer than COLD_START_MIN_POINTS predecessors gets no interval.
    """
    out = []
    for i in range(max(start, COLD_START_MIN_POINTS), len(values)):
        median, lower, upper = robust_interval(values[max(0, i - window):i], level)
        out.append((i, median, lower, upper))
    return out
