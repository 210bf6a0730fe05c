"""Alert outputs: how one alert change is sent to a webhook, an Alertmanager or apprise.

Each sender is called on its output's delivery thread (actors/hub/alert_delivery.py),
never on the hub's loop; `send` raises SendError when the receiver did not take it: the
delivery thread retries it with backoff, unless the error is permanent (the receiver
refused this alert for good: it is then given up as rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from protocol.alert_actions import AlertOutput, OutputKind
from protocol.alerts import Alert


class SendError(Exception):
    """The receiver did not take the alert (down, refused, timed out).

    permanent: trying again cannot help (a bad payload, a bad token, a wrong URL): the
    delivery is given up at once; otherwise it is retried later.
    """

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One delivery: an alert change for one output (id: the delivery's, unique per hub)."""

    delivery_id: int
    alert: Alert
    started_at: float   # when the alert first fired
    hub_id: str


class Sender(Protocol):
    """Sends alert changes to one receiver."""

    #: True: firing alerts are sent again every resend_interval (Alertmanager's way).
    resends: bool

    def send(self, item: Outgoing, replaces: Outgoing | None = None) -> None:
        """Deliver one alert change or raise SendError.

        replaces: the same alert as last delivered when its severity changed (an
        Alertmanager knows an alert by its labels, so the old one is ended with it).
        """

    def resend(self, firing: list[Outgoing]) -> None:
        """Send the alerts still firing again (only when `resends`); SendError on failure."""


def make_sender(output: AlertOutput) -> Sender:
    """The sender of an output; ValueError when its settings cannot work (e.g. a bad URL)."""
    if output.kind == OutputKind.WEBHOOK:
        from actors.common.alert_outputs.webhook import WebhookSender
        return WebhookSender(output)
    if output.kind == OutputKind.ALERTMANAGER:
        from actors.common.alert_outputs.alertmanager import AlertmanagerSender
        return AlertmanagerSender(output)
    from actors.common.alert_outputs.apprise_output import AppriseSender
    return AppriseSender(output)
