"""Alerts raised from what the hub records: anomaly events and jobs that failed for good.

Pure functions from a change to the alerts it makes; the callers (detection.py,
job_book.py) pass them to `state.alerts.notify`, whose book drops what is unchanged.
"""

from __future__ import annotations

from typing import Any

from protocol.alerts import Alert, AlertKind, AlertStatus, Severity

#: An event whose peak score reaches this is critical (the detector's escalation factor:
#: twice as surprising as the threshold, in -log10 p); below it, a warning.
CRITICAL_PEAK = 2.0


def anomaly_alerts(series: str, model: str, event: dict[str, Any], at: float) -> list[Alert]:
    """The alert changes of one anomaly event as the worker sent it.

    Opened: firing (warning, or critical at a peak of CRITICAL_PEAK); escalated (its peak
    reached CRITICAL_PEAK): firing again as critical; closed: resolved (after a firing,
    so an event opened and closed within one job is still told).
    """
    severity = Severity.CRITICAL if event["peak"] >= CRITICAL_PEAK else Severity.WARNING
    summary = (f"anomaly in {series}: {event['points']} point(s) from {event['start']} "
               f"to {event['end']}, peak score {event['peak']:.2f}")
    firing = Alert(key=f"anomaly:{series}:{event['id']}", kind=AlertKind.ANOMALY,
                   status=AlertStatus.FIRING, series=series, severity=severity, at=at,
                   summary=summary, labels={"model": model},
                   details={k: event[k] for k in ("id", "start", "end", "peak", "peak_ts",
                                                  "points", "state")})
    if event["state"] != "closed":
        return [firing]
    resolved = Alert(key=firing.key, kind=firing.kind, status=AlertStatus.RESOLVED,
                     series=series, severity=severity, at=at,
                     summary=f"anomaly in {series} ended: " + summary.split(": ", 1)[1],
                     labels=firing.labels, details=firing.details)
    return [firing, resolved]


def job_alert(series: str, kind: str, state: str, error: str | None, at: float) -> Alert:
    """A job of a series failed for good (firing), or one of its kind succeeded (resolved)."""
    failed = state == "failed"
    return Alert(
        key=f"system:job:{series}:{kind}", kind=AlertKind.SYSTEM,
        status=AlertStatus.FIRING if failed else AlertStatus.RESOLVED, series=series,
        severity=Severity.WARNING, at=at,
        summary=(f"{kind} of {series} failed for good: {error}" if failed
                 else f"{kind} of {series} works again"),
        labels={"check": "series_failing", "job": kind},
        details={"error": error} if failed else {})


def series_removed_alerts(series: str, model: str, events: list[dict[str, Any]],
                          at: float) -> list[Alert]:
    """Resolves of what a series removed may have firing: its open events, its jobs."""
    resolved = [anomaly_alerts(series, model, {**e, "state": "closed"}, at)[-1]
                for e in events if e.get("state") == "open"]
    return resolved + [job_alert(series, kind, "done", None, at)
                       for kind in ("train", "fit", "forecast")]
