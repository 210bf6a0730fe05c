"""A generic webhook: the alert as a versioned JSON object, signed with HMAC-SHA256.

Payload (version 1): version, id (the delivery's, unique per hub: receivers dedupe on
it), hub, key, kind, status, series, severity, summary, labels, details, at, started_at.
Header `X-Enodo-Signature: sha256=<hex HMAC-SHA256 of the body with the output's secret>`
(only with a secret), `X-Enodo-Delivery: <id>`. See docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

from actors.common.alert_outputs import Outgoing
from actors.common.alert_outputs.http import post_json
from protocol.alert_actions import AlertOutput

PAYLOAD_VERSION = 1
SIGNATURE_HEADER = "X-Enodo-Signature"


def payload(item: Outgoing) -> dict:
    """The JSON object a webhook receives for one alert change."""
    alert = item.alert
    return {"version": PAYLOAD_VERSION, "id": f"{item.hub_id}:{item.delivery_id}",
            "hub": item.hub_id, "key": alert.key, "kind": str(alert.kind),
            "status": str(alert.status), "series": alert.series,
            "severity": str(alert.severity), "summary": alert.summary,
            "labels": alert.labels, "details": alert.details, "at": alert.at,
            "started_at": item.started_at}


def signature(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POSTs each alert change to the output's URL."""

    resends = False

    def __init__(self, output: AlertOutput) -> None:
        self.url = output.url
        self.secret = output.get("secret", "")
        self.timeout = output.timeout

    def send(self, item: Outgoing, replaces: Outgoing | None = None) -> None:
        """POST the payload; SendError unless the receiver answers 2xx in time."""
        body = msgspec.json.encode(payload(item))
        headers = {"X-Enodo-Delivery": f"{item.hub_id}:{item.delivery_id}"}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        post_json(self.url, body, headers, self.timeout)

    def resend(self, firing: list[Outgoing]) -> None:
        """Webhooks get each change once."""
