"""Driving an AlertBook in tests as the hub's loop does: outputs, alert changes, turns."""

from __future__ import annotations

import time
from typing import Any

from actors.hub.alert_book import AlertBook
from protocol.alert_actions import AlertOutput
from protocol.alerts import Alert, AlertKind, AlertStatus, Severity
from protocol.typed import convert


def add_output(book: AlertBook, url: str, **extra: Any) -> dict[str, Any]:
    """Add the webhook output `ops` (secret s3cret, fast backoff) or what extra says."""
    fields = {"name": "ops", "kind": "webhook", "url": url, "secret": "s3cret", "backoff": 0.05,
              **extra}
    return book.add_output(convert(fields, AlertOutput, "output"))


def fire(book: AlertBook, series: str = "cpu", status: AlertStatus = AlertStatus.FIRING,
         severity: Severity = Severity.WARNING, key: str | None = None) -> None:
    """Notify an anomaly alert change of a series."""
    book.notify(Alert(key=key or f"anomaly:{series}:1", kind=AlertKind.ANOMALY, status=status,
                      series=series, severity=severity, at=time.time(), summary="s",
                      labels={"model": "arima"}, details={"peak": 1.5}))


def recorded(book: AlertBook) -> list[dict[str, Any]]:
    """The deliveries as recorded once the loop has taken the outcomes reported so far."""
    book.tick(time.monotonic())
    return book.db.recent(10, None)


def turn(book: AlertBook) -> None:
    """One loop turn: the timer, then the commit."""
    book.tick(time.monotonic())
    book.store.commit()
    book.tick(time.monotonic())
