"""Alerts: what the hub raises for people (anomaly events, rule breaches, forecast
crossings, Enodo's own trouble), one shape for every source and every output.

A source (the hub's anomaly events, a static or forecast rule, a system check) calls
`AlertSink.notify` with an `Alert` each time an alert changes: it fires, it escalates
(fires again with a higher severity), or it resolves. `key` is the alert's identity:
the same key is the same alert, so outputs deduplicate on it and a resolve names the
alert it ends. The delivery side (outputs, routing, silences, retries) owns what happens
next; a source never waits for it.
"""

from __future__ import annotations

import enum
from typing import Any, Protocol

import msgspec

from protocol.typed import Shape


class AlertKind(enum.StrEnum):
    """Where an alert comes from (the payload's `kind`)."""

    ANOMALY = "anomaly"    # an anomaly event of a series: opened, escalated, closed
    RULE = "rule"          # a static rule on a series' data
    FORECAST = "forecast"  # a forecast-crossing rule ("will cross X within H")
    SYSTEM = "system"      # Enodo's own trouble (listener or workers gone, SiriDB down...)


class AlertStatus(enum.StrEnum):
    """Firing until resolved (the payload's `status`, Alertmanager's words)."""

    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(enum.StrEnum):
    """How urgent; outputs route on it."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(Shape, frozen=True):
    """One change of one alert.

    key: the alert's identity, stable across its changes, e.g. "anomaly:<series>:<start>",
    "rule:<series>:<rule id>", "system:listener".
    series: the series it is about; "" for a system alert about no series.
    at: wall-clock seconds when the change happened.
    summary: one line for people.
    labels: extra strings outputs may route and group on (model, rule, view...).
    details: the why: expected value and band, probability, crossing time, reasons.
    """

    key: str
    kind: AlertKind
    status: AlertStatus
    series: str
    severity: Severity
    at: float
    summary: str
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class AlertSink(Protocol):
    """Takes alert changes from a source; never blocks on delivery."""

    def notify(self, alert: Alert) -> None:
        """Record an alert change (written before any send) and let the outputs have it."""


class NoAlerts:
    """A sink that drops every alert: for a hub (or a test) with alerting not wired."""

    def notify(self, alert: Alert) -> None:
        """Drop the alert."""
