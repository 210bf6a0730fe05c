"""Notification services (Slack, Teams, e-mail, Telegram, PagerDuty...) through apprise.

One output holds one or more apprise URLs (https://github.com/caronc/apprise/wiki); each
alert change is one notification: the title says status, severity and series, the body
the summary and details. Apprise applies its own timeouts (per URL: `?cto=4&rto=4`), not
the output's `timeout`.
"""

from __future__ import annotations

import apprise

from actors.common.alert_outputs import Outgoing, SendError
from protocol.alert_actions import AlertOutput
from protocol.alerts import AlertStatus, Severity

_TYPES = {Severity.INFO: apprise.NotifyType.INFO, Severity.WARNING: apprise.NotifyType.WARNING,
          Severity.CRITICAL: apprise.NotifyType.FAILURE}


def message(item: Outgoing) -> tuple[str, str]:
    """(title, body) of the notification for one alert change."""
    alert = item.alert
    title = (f"[{str(alert.status).upper()}] {str(alert.severity)}: "
             f"{alert.series or str(alert.kind)}")
    lines = [alert.summary, f"kind: {str(alert.kind)}", f"key: {alert.key}"]
    lines += [f"{k}: {v}" for k, v in sorted(alert.details.items())]
    return title, "\n".join(lines)


class AppriseSender:
    """Notifies every URL of the output."""

    resends = False

    def __init__(self, output: AlertOutput) -> None:
        urls = list(output.get("urls") or []) + ([output.url] if output.get("url") else [])
        self.apprise = apprise.Apprise()
        for url in urls:
            try:
                taken = self.apprise.add(url)
            except Exception:  # noqa: BLE001 - a URL a plugin chokes on is just not taken
                taken = False
            if not taken:
                raise ValueError(f"apprise does not take the URL {url.split('://')[0]}://...")

    def send(self, item: Outgoing, replaces: Outgoing | None = None) -> None:
        """Notify; SendError when a service did not take it."""
        title, body = message(item)
        kind = (apprise.NotifyType.SUCCESS if item.alert.status == AlertStatus.RESOLVED
                else _TYPES[item.alert.severity])
        if not self.apprise.notify(title=title, body=body, notify_type=kind):
            # apprise says only that a service failed, not why (no HTTP status): retried.
            raise SendError("apprise: a notification service did not take the alert")

    def resend(self, firing: list[Outgoing]) -> None:
        """Each change is notified once."""
