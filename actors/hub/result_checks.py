"""Sane values in a worker's result, checked before anything of it is stored.

A result is proven to come from the worker its job went to (protocol/session.py), but a
buggy or compromised worker must still not be able to store what breaks a series for good:
a detector state judged "up to" 9e18 silenced detection forever, and an anomaly record may
only hold the numbers the API documents (no strings a browser could take for markup).

Timestamps are in the database's precision (s, ms, us or ns); the hub knows it from its
SiriDB health check, and without one assumes ns, the finest, so that the bounds only ever
err on the side of accepting real data. Points already judged may not lie beyond now (plus
a day of clock skew); forecast steps may not lie beyond a century from now.
"""

from __future__ import annotations

import math
from typing import Any

from protocol.anomaly import VIEWS  # an anomaly's `view` names one, `surprise` maps some

#: Ticks per second of each SiriDB time precision.
TICKS = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
SKEW = 86_400.0                    # seconds a judged point may lie ahead of the hub's clock
FORECAST_REACH = 100 * 365 * 86_400.0  # seconds ahead a forecast step may lie
ANOMALY_NUMBERS = ("value", "expected", "lower", "upper", "score", "point_score", "mean_score",
                   "probability", "baseline")
#: The longest residual lists a detector state carries between jobs (views.py's windows are
#: 12 and 24; a margin, not a contract).
MAX_VIEW_WINDOW = 100
EVENT_INTS = ("id", "start", "end", "peak_ts", "points")
MAX_WINDOW = 1000                  # the longest flags or deviations list (anomaly `n`)
SUMMARY_KEYS = ("horizon", "start", "end", "mean_first", "mean_last", "anomalies")
MAX_TEXT = 500                     # longest string kept in an accuracy report


class Bounds:
    """The newest timestamp a judged point and a forecast step may have, now."""

    def __init__(self, now: float, precision: str | None) -> None:
        ticks = TICKS.get(precision or "ns", TICKS["ns"])
        self.judged = int((now + SKEW) * ticks)
        self.forecast = int((now + FORECAST_REACH) * ticks)

    def timestamp(self, value: Any, what: str, forecast: bool = False) -> int:
        """value when it is an integer timestamp in range; ValueError naming `what` if not."""
        limit = self.forecast if forecast else self.judged
        if type(value) is not int or not 0 <= value <= limit:
            raise ValueError(f"{what} {value!r:.40} is not a timestamp between 0 and {limit}")
        return value


def _number(value: Any, what: str, nullable: bool = True) -> float | int | None:
    if value is None and nullable:
        return None
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return value


def clean_anomalies(raw: Any, bounds: Bounds) -> list[dict[str, Any]]:
    """The anomaly records, each rebuilt from its documented keys; ValueError if malformed."""
    if not isinstance(raw, list):
        raise ValueError("anomalies must be a list")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("anomalies must be objects")
        record = {"timestamp": bounds.timestamp(item.get("timestamp"), "anomaly timestamp")}
        for key in ANOMALY_NUMBERS:
            if key in item:
                record[key] = _number(item[key], f"anomaly {key}")
        if item.get("view") is not None:
            if item["view"] not in VIEWS:
                raise ValueError(f"anomaly view must be one of {', '.join(VIEWS)}")
            record["view"] = item["view"]
        elif "view" in item:
            record["view"] = None
        if "surprise" in item:
            surprise = item["surprise"]
            if not isinstance(surprise, dict) or not set(surprise) <= set(VIEWS):
                raise ValueError("anomaly surprise must map views to numbers")
            record["surprise"] = {view: _number(value, f"anomaly surprise {view}",
                                                nullable=False)
                                  for view, value in surprise.items()}
        out.append(record)
    return out


def clean_event(raw: Any, bounds: Bounds, open_only: bool = False) -> dict[str, Any]:
    """One anomaly event with checked values (ValueError if malformed)."""
    if not isinstance(raw, dict):
        raise ValueError("events must be objects")
    event: dict[str, Any] = {}
    for key in EVENT_INTS:
        value = raw.get(key)
        if key in ("start", "end", "peak_ts"):
            event[key] = bounds.timestamp(value, f"event {key}")
        elif type(value) is not int or value < 0:
            raise ValueError(f"event {key} must be an integer >= 0")
        else:
            event[key] = value
    event["peak"] = _number(raw.get("peak"), "event peak", nullable=False)
    state = raw.get("state")
    if state not in (("open",) if open_only else ("open", "closed")):
        raise ValueError("event state must be 'open' or 'closed'")
    event["state"] = state
    if "alerted" in raw:
        event["alerted"] = _number(raw["alerted"], "event alerted", nullable=False)
    return event


def check_detector(raw: Any, bounds: Bounds) -> None:
    """ValueError unless raw is a detector state the worker's DetectorState would keep."""
    if raw is None:
        return
    if not isinstance(raw, dict) or not set(raw) <= {"last_ts", "flags", "views", "quiet",
                                                     "event"}:
        raise ValueError("detector must be an object of last_ts, flags, views, quiet, event")
    if raw.get("last_ts") is not None:
        bounds.timestamp(raw["last_ts"], "detector last_ts")
    flags = raw.get("flags", [])
    if not isinstance(flags, list) or len(flags) > MAX_WINDOW or not set(flags) <= {0, 1}:
        raise ValueError(f"detector flags must be at most {MAX_WINDOW} zeros and ones")
    views = raw.get("views", {})
    if not isinstance(views, dict) or not set(views) <= {"residuals", "errors"}:
        raise ValueError("detector views must be an object of residuals, errors")
    for key, values in views.items():
        if not isinstance(values, list) or len(values) > MAX_VIEW_WINDOW:
            raise ValueError(f"detector views {key} must be a list of at most {MAX_VIEW_WINDOW}")
        for value in values:
            _number(value, f"detector views {key}", nullable=False)
    quiet = raw.get("quiet", 0)
    if type(quiet) is not int or quiet < 0:
        raise ValueError("detector quiet must be an integer >= 0")
    if raw.get("event") is not None:
        clean_event(raw["event"], bounds, open_only=True)


def check_forecast_times(timestamps: list[int], bounds: Bounds) -> None:
    """ValueError unless the forecast's steps are increasing timestamps in range."""
    previous = -1
    for value in timestamps:
        bounds.timestamp(value, "forecast timestamp", forecast=True)
        if value <= previous:
            raise ValueError("forecast timestamps must increase")
        previous = value


def forecast_summary(forecast: dict[str, Any], anomalies: int) -> dict[str, Any]:
    """The summary kept on the series, made here from checked values (not the worker's)."""
    ts, mean = forecast["timestamps"], forecast["mean"]
    return dict(zip(SUMMARY_KEYS, (len(ts), ts[0] if ts else None, ts[-1] if ts else None,
                                   mean[0] if mean else None, mean[-1] if mean else None,
                                   anomalies), strict=True))


def check_accuracy(raw: Any) -> dict[str, Any]:
    """An accuracy report of JSON scalars (strings short) and objects of them; else ValueError."""
    if not isinstance(raw, dict):
        raise ValueError("accuracy must be an object")
    for key, value in raw.items():
        values = value.values() if isinstance(value, dict) else [value]
        for item in values:
            if isinstance(item, str):
                if len(item) > MAX_TEXT:
                    raise ValueError(f"accuracy {key!r:.40}: text over {MAX_TEXT} characters")
            elif item is not None and type(item) not in (int, float, bool):
                raise ValueError(f"accuracy {key!r:.40}: values must be numbers or short text")
    return raw
