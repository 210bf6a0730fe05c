"""The demo's alert receiver: a local webhook the hub delivers every alert to.

The demo starts it on a free loopback port, registers it with the hub as the webhook
output `demo` (signed with a secret made for this run), and prints each alert it takes as
an `alert:` line; every payload also lands, one JSON line each, in the stack's run
directory (.enodo/alerts-received.jsonl). See docs/alerts.md.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from api.hub_client import HubClient, HubError
from scripts.alert_receiver import AlertReceiver

log = logging.getLogger("enodo.demo")
OUTPUT = "demo"


def show(alert: dict[str, Any]) -> None:
    """Print one alert the receiver took."""
    print(f"alert: {alert.get('status')} {alert.get('severity')} {alert.get('kind')} "
          f"{alert.get('series') or '-'}: {alert.get('summary')}", flush=True)


def start_receiver(hub: HubClient, path: Path) -> AlertReceiver:
    """Start the receiver and make it the hub's `demo` webhook output (replacing an old one)."""
    secret = secrets.token_hex(16)
    receiver = AlertReceiver(secret=secret, path=path, on_alert=show).start()
    try:
        hub.request("remove_alert_output", {"name": OUTPUT})  # an earlier run's port
    except HubError as exc:
        if exc.code != "not_found":
            raise
    hub.request("add_alert_output", {"name": OUTPUT, "kind": "webhook", "url": receiver.url,
                                     "secret": secret, "backoff": 1.0, "max_backoff": 10.0})
    log.info("alerts go to %s (webhook output %r) and are written to %s", receiver.url,
             OUTPUT, path)
    return receiver
