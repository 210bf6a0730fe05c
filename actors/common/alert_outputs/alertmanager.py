"""Prometheus Alertmanager, API v2: POST /api/v2/alerts with labels and annotations.

Labels (what an Alertmanager route matches): alertname (EnodoAnomaly, EnodoRule,
EnodoForecast, EnodoSystem), key, series, kind, severity, and the alert's own labels
(model, rule, view...). Annotations: summary, and details as JSON. A firing alert has no
endsAt and is sent again every resend_interval, as Alertmanager expects of a client (it
resolves an alert not heard of for resolve_timeout); a resolved one has endsAt.
"""

from __future__ import annotations

import datetime
import re

import msgspec

from actors.common.alert_outputs import Outgoing
from actors.common.alert_outputs.http import post_json
from protocol.alert_actions import AlertOutput
from protocol.alerts import AlertStatus

_LABEL = re.compile(r"[^A-Za-z0-9_]")


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat().replace(
        "+00:00", "Z")


def am_alert(item: Outgoing) -> dict:
    """One alert as Alertmanager's API v2 takes it."""
    alert = item.alert
    labels = {_LABEL.sub("_", k) or "_": str(v) for k, v in alert.labels.items()}
    labels.update(alertname=f"Enodo{str(alert.kind).capitalize()}", key=alert.key,
                  series=alert.series, kind=str(alert.kind), severity=str(alert.severity))
    out = {"labels": {k: v for k, v in labels.items() if v != ""},
           "annotations": {"summary": alert.summary,
                           "details": msgspec.json.encode(alert.details).decode()},
           "startsAt": _iso(item.started_at)}
    if alert.status == AlertStatus.RESOLVED:
        out["endsAt"] = _iso(max(alert.at, item.started_at))
    return out


class AlertmanagerSender:
    """POSTs alerts to <url>/api/v2/alerts."""

    resends = True

    def __init__(self, output: AlertOutput) -> None:
        self.url = output.url.rstrip("/") + "/api/v2/alerts"
        self.timeout = output.timeout

    def send(self, item: Outgoing, replaces: Outgoing | None = None) -> None:
        """POST one alert (ending the one it replaces); SendError unless Alertmanager takes it."""
        if replaces is None:
            self._post([item])
            return
        ended = Outgoing(replaces.delivery_id, msgspec.structs.replace(
            replaces.alert, status=AlertStatus.RESOLVED, at=item.alert.at),
            replaces.started_at, replaces.hub_id)
        self._post([ended, item])

    def resend(self, firing: list[Outgoing]) -> None:
        """POST every alert still firing (keeps them from resolving by timeout)."""
        if firing:
            self._post(firing)

    def _post(self, items: list[Outgoing]) -> None:
        post_json(self.url, msgspec.json.encode([am_alert(i) for i in items]), {}, self.timeout)
