"""Streaming anomaly decisions: per-series settings, a score per point, persistence, events.

Pure logic (numpy and the standard library only), shared by the worker and `bench/nab.py`.
Points are judged one at a time, in arrival order, from their observation (views.py): how
surprising each view finds the point, as s = -log10(p), p the tail probability it implies.

- Sensitivity: a probability; a view fires when its p is below it (s above -log10 of it). It is
  the anomaly decision's own setting, apart from the forecast band's `interval_level` (which is
  for people to look at): per series (`sensitivity`), else the hub's `anomaly_sensitivity`.
- Combination: `any` takes the most surprised of the enabled views (`views`); `consensus` the
  second most surprised, so two views must agree (Skyline's consensus, for noisy series).
- Score: the combined surprise over the threshold (> 1: anomalous, as before); the verdict names
  the view that fired, its probability, and every view's surprise, so alerts can say why.
- The direction (above, below, both) and a minimum absolute deviation limit which points count.
  A point is anomalous when at least k of the last n points were flagged (persistence).
- Anomalous points form events: an event opens at the first, takes in the next ones, keeps its peak
  score and closes after event_gap judged points without an anomaly. An alert is raised when an
  event opens, and again when its score reaches ESCALATION times the score of its last alert.

The detector's state (persistence flags, the views' recent residuals, the open event, the last
judged time) is a small JSON object: the hub keeps it per series and sends it with the next job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from actors.worker.views import Observation, ViewState
from protocol.anomaly import (  # noqa: F401 - re-exported: the detector's settings
    COLD_START_MIN_POINTS,
    COMBINES,
    DEFAULT_COMBINE,
    DEFAULT_EVENT_GAP,
    DEFAULT_SENSITIVITY,
    DEFAULT_VIEWS,
    DIRECTIONS,
    MAX_PERSISTENCE,
    MAX_SENSITIVITY,
    MIN_SENSITIVITY,
    AnomalySettings,
    check_sensitivity,
)

THRESHOLD = 1.0
ESCALATION = 2.0


@dataclass(frozen=True)
class Verdict:
    """One judged point: what was expected, how surprising each view found it, the decision."""

    timestamp: int
    value: float
    expected: float       # the forecast's mean (else the baseline's), as people see it
    lower: float          # the forecast's band (else the baseline's at the same level)
    upper: float
    score: float          # the combined surprise over the threshold (> 1: anomalous)
    view: str | None      # the view that decided (None: no view could judge)
    probability: float    # the tail probability the combined surprise implies
    baseline: float       # what the seasonal baseline expected
    surprise: dict[str, float]  # -log10(p) of each view
    point_score: float    # the forecast or seasonal view alone, over the threshold
    mean_score: float     # the level view alone, over the threshold
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
    views: ViewState = field(default_factory=ViewState)
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
                views=ViewState.restore(raw.get("views")),
                quiet=int(raw.get("quiet", 0)),
                event=_restore_event(raw.get("event")),
            )
        except (KeyError, TypeError, ValueError):
            return cls()
        return state

    def to_json(self) -> dict[str, Any]:
        """Plain dict for ujson/json."""
        out = asdict(self)
        out["views"] = self.views.to_json()
        return out


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
    """Judges observations in arrival order; collects the events they open, extend and close."""

    def __init__(
        self, settings: AnomalySettings | None = None, state: Mapping[str, Any] | None = None,
        sensitivity: float = DEFAULT_SENSITIVITY, level: float = 0.95,
    ) -> None:
        self.settings = settings or AnomalySettings()
        self.state = DetectorState.restore(state)
        chosen = self.settings.sensitivity
        self.threshold = -math.log10(sensitivity if chosen is None else chosen)
        self.views_on = DEFAULT_VIEWS if self.settings.views is None else self.settings.views
        self.combine = self.settings.combine or DEFAULT_COMBINE
        self.level = level
        self.changed: dict[int, dict[str, Any]] = {}  # event id -> its latest version

    @property
    def views(self) -> ViewState:
        """The views' state, which `views.observe` updates."""
        return self.state.views

    def judge(self, obs: Observation) -> Verdict | None:
        """Judge one observation; None when it is not after the last judged point."""
        st, cfg = self.state, self.settings
        if st.last_ts is not None and obs.timestamp <= st.last_ts:
            return None
        st.last_ts = obs.timestamp
        counted = sorted(
            ((s, name) for name, s in obs.surprise.items()
             if name in self.views_on and self._counts(obs, name)),
            reverse=True,
        )
        rank = 1 if self.combine == "consensus" else 0
        surprise, view = counted[rank] if len(counted) > rank else (0.0, None)
        score = surprise / self.threshold
        flagged = score > THRESHOLD
        st.flags = (st.flags + [int(flagged)])[-cfg.n:]
        anomalous = flagged and sum(st.flags) >= cfg.k
        alert = self._track(obs.timestamp, score, anomalous)
        expected, lower, upper = obs.forecast or self._baseline_band(obs)
        point = max(obs.surprise.get("forecast", 0.0), obs.surprise.get("seasonal", 0.0))
        return Verdict(
            obs.timestamp, obs.value, expected, lower, upper, score, view, 10.0 ** -surprise,
            obs.baseline, dict(obs.surprise), point / self.threshold,
            obs.surprise.get("level", 0.0) / self.threshold, anomalous, alert,
        )

    def _baseline_band(self, obs: Observation) -> tuple[float, float, float]:
        """The baseline's band at the forecast level: p = 100^(-d / q99) = 1 - level."""
        if not math.isfinite(obs.baseline):
            return obs.value, obs.value, obs.value
        half = obs.scale * math.log(1.0 / (1.0 - self.level)) / math.log(100.0)
        return obs.baseline, obs.baseline - half, obs.baseline + half

    def _counts(self, obs: Observation, view: str) -> bool:
        cfg = self.settings
        if view == "spread":  # a change of variance has no direction or size of its own
            return cfg.direction == "both" and cfg.min_deviation == 0
        deviation = obs.deviation.get(view, 0.0)
        if not math.isfinite(deviation) or deviation == 0:
            return False
        if abs(deviation) < cfg.min_deviation:
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
