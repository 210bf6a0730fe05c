"""Anomaly detection on the hub: per-series settings, stored anomalies, events and detector state.

The worker judges points (actors/worker/detection.py); the hub checks the settings when a
series is added, sends them and the detector's state with each FORECAST_SERIE job, and keeps
what comes back: anomalous points (each once), events (an open event is replaced by its newer
versions until it closes) and the detector state. New anomalies are pushed to subscribed
clients as SERIES_UPDATE `anomalies`, each changed event as `anomaly_event`, and each
changed event is an alert (opened, escalated, closed: alert_sources.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors.hub.alert_sources import anomaly_alerts
from protocol.anomaly import AnomalySettings
from protocol.errors import ErrorCode, ProtocolError

if TYPE_CHECKING:  # state.py imports this module
    from actors.hub.series import Series
    from actors.hub.state import HubState

#: Anomalies and events kept per series (newest last).
MAX_ANOMALIES = 1000
MAX_EVENTS = 1000
EVENT_KEYS = ("id", "start", "end", "peak", "peak_ts", "points", "state")


def check_anomaly_settings(raw: Any) -> dict[str, Any]:
    """The series' anomaly settings with defaults filled, or ProtocolError(INVALID)."""
    try:
        return AnomalySettings.parse(raw).to_json()
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID, f"anomaly: {exc}") from None


def check_detection(result: dict[str, Any]) -> None:
    """Raise TypeError unless the result's anomalies, events and detector state can be kept."""
    anomalies = result.get("anomalies", [])
    if not isinstance(anomalies, list) or not all(
        isinstance(a, dict) and type(a.get("timestamp")) is int for a in anomalies
    ):
        raise TypeError("anomalies must be objects with an integer timestamp")
    events = result.get("events", [])
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and all(k in e for k in EVENT_KEYS) and type(e["id"]) is int
        for e in events
    ):
        raise TypeError(f"events must be objects with {', '.join(EVENT_KEYS)}")
    detector = result.get("detector")
    if detector is not None and not isinstance(detector, dict):
        raise TypeError("detector must be an object")


def record_detection(state: HubState, series: Series, result: dict[str, Any]) -> None:
    """Keep a forecast result's anomalies, events and detector state; push what is new."""
    check_detection(result)
    store, name = state.store, series.name
    anomalies = result.get("anomalies", [])
    if anomalies:
        known = store.get_output(name, "anomalies") or []
        # A job redone (its first result lost) judges the same points again: keep each once.
        seen = {a["timestamp"] for a in known}
        fresh = [a for a in anomalies if a["timestamp"] not in seen]
        if fresh:
            kept = sorted(known + fresh, key=lambda a: a["timestamp"])[-MAX_ANOMALIES:]
            store.put_output(name, "anomalies", kept)
            state.metrics.anomalies.inc(len(fresh))
            state.publish(name, "anomalies", {"anomalies": fresh})
    events = [{key: e[key] for key in EVENT_KEYS} for e in result.get("events", [])]
    if events:
        kept_events = {e["id"]: e for e in store.get_output(name, "anomaly_events") or []}
        for event in events:
            if event["id"] not in kept_events:
                state.metrics.anomaly_events.inc()
            if kept_events.get(event["id"]) != event:
                kept_events[event["id"]] = event
                state.publish(name, "anomaly_event", event)
                for alert in anomaly_alerts(name, series.model, event, state.wall()):
                    state.alerts.notify(alert)
        ordered = sorted(kept_events.values(), key=lambda e: e["id"])[-MAX_EVENTS:]
        store.put_output(name, "anomaly_events", ordered)
    if isinstance(result.get("detector"), dict):
        store.put_output(name, "detector", result["detector"])


def anomaly_view(state: HubState, series: Series, limit: int) -> dict[str, Any]:
    """The newest anomalies and events of a series, oldest first."""
    anomalies = state.store.get_output(series.name, "anomalies") or []
    events = state.store.get_output(series.name, "anomaly_events") or []
    return {"name": series.name, "settings": series.anomaly,
            "anomalies": anomalies[-limit:], "events": events[-limit:]}
