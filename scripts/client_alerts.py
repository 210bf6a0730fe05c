"""enodo-client's alert commands: outputs, silences, deliveries (docs/alerts.md).

Each is one hub action, as the REST API's /alerts routes are; client_commands.py takes
them into its table.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from scripts import client_format as fmt

KINDS = ("anomaly", "rule", "forecast", "system")


def _duration(text: str) -> float:
    """Seconds from 90, 90s, 30m, 2h or 1d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    scale = units.get(text[-1:], 1)
    try:
        value = float(text[:-1] if text[-1:] in units else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration (90s, 30m, 2h, 1d): {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def add_alert_commands(sub: argparse._SubParsersAction) -> None:
    """Add the alert commands' parsers."""
    sub.add_parser("alert-outputs", help="list the alert outputs")
    add = sub.add_parser("alert-output-add", help="add an alert output")
    add.add_argument("name")
    add.add_argument("kind", choices=("webhook", "alertmanager", "apprise"))
    add.add_argument("url", nargs="+", help="its URL (apprise: one or more)")
    add.add_argument("--secret", help="webhook: the HMAC-SHA256 key of its signature")
    add.add_argument("--series", help="only series matching: a glob, or /regex/")
    add.add_argument("--kind", dest="kinds", action="append", choices=KINDS,
                     help="only alerts of this kind (repeat for more)")
    add.add_argument("--min-severity", choices=("info", "warning", "critical"))
    add.add_argument("--rate-limit", type=int, help="at most N sends a minute")
    sub.add_parser("alert-output-remove", help="delete an alert output").add_argument("name")
    sub.add_parser("silences", help="list the silences not yet ended")
    silence = sub.add_parser("silence", help="hold back the alerts of matching series")
    silence.add_argument("series", help="a series name, a glob or /regex/")
    silence.add_argument("--for", dest="duration", type=_duration, required=True,
                         help="how long: 90s, 30m, 2h, 1d")
    silence.add_argument("--kind", dest="kinds", action="append", choices=KINDS)
    silence.add_argument("--comment", default="")
    sub.add_parser("unsilence", help="end a silence now").add_argument("id")
    deliveries = sub.add_parser("deliveries", help="recent alert deliveries, newest first")
    deliveries.add_argument("--output", help="only this output's")
    deliveries.add_argument("--limit", type=int, help="newest N (1..1000, default 100)")


def _output(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {"name": args.name, "kind": args.kind}
    if args.kind == "apprise":
        params["urls"] = args.url
    else:
        params["url"] = args.url[0]
    for key in ("secret", "series", "kinds", "min_severity", "rate_limit"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    return params


def _silence(args: argparse.Namespace) -> dict[str, Any]:
    params = {"series": args.series, "ends_at": time.time() + args.duration,
              "comment": args.comment}
    if args.kinds:
        params["kinds"] = args.kinds
    return params


def outputs(data: Any) -> str:
    """The output of `alert-outputs`."""
    items = data.get("outputs", []) if isinstance(data, dict) else []
    if not items:
        return "no alert outputs"
    return fmt.table(["NAME", "KIND", "URL", "SERIES", "KINDS", "MIN", "PENDING"], [
        [fmt.show_value(o.get("name")), fmt.show_value(o.get("kind")),
         fmt.show_value(o.get("url") or ", ".join(o.get("urls") or [])),
         o.get("series") or "*", ",".join(o.get("kinds") or []) or "all",
         fmt.show_value(o.get("min_severity")), str(o.get("pending", 0))] for o in items])


def silences(data: Any) -> str:
    """The output of `silences`."""
    items = data.get("silences", []) if isinstance(data, dict) else []
    if not items:
        return "no silences"
    return fmt.table(["ID", "SERIES", "UNTIL", "KINDS", "COMMENT"], [
        [s.get("id", ""), s.get("series", ""), fmt.show_time(s.get("ends_at")),
         ",".join(s.get("kinds") or []) or "all", s.get("comment", "")] for s in items])


def deliveries(data: Any) -> str:
    """The output of `deliveries`."""
    items = data.get("deliveries", []) if isinstance(data, dict) else []
    if not items:
        return "no deliveries"
    return fmt.table(["ID", "OUTPUT", "KEY", "STATUS", "STATE", "TRIES", "UPDATED", "ERROR"], [
        [str(d.get("id")), d.get("output", ""), d.get("key", ""), d.get("status", ""),
         d.get("state", ""), str(d.get("attempts", 0)), fmt.show_time(d.get("updated_at")),
         d.get("error") or ""] for d in items])


Params = Callable[[argparse.Namespace], dict[str, Any] | None]
ALERT_COMMANDS: dict[str, tuple[str, Params, Callable[[Any], str]]] = {
    "alert-outputs": ("list_alert_outputs", lambda a: None, outputs),
    "alert-output-add": ("add_alert_output", _output,
                         lambda d: f"added alert output {d.get('name')}\n{fmt.key_values(d)}"),
    "alert-output-remove": ("remove_alert_output", lambda a: {"name": a.name},
                            lambda d: f"removed alert output {d.get('deleted')}"),
    "silences": ("list_silences", lambda a: None, silences),
    "silence": ("add_silence", _silence,
                lambda d: f"silence {d.get('id')} until {fmt.show_time(d.get('ends_at'))}"),
    "unsilence": ("remove_silence", lambda a: {"id": a.id},
                  lambda d: f"ended silence {d.get('deleted')}"),
    "deliveries": ("alert_deliveries",
                   lambda a: {k: v for k, v in (("output", a.output), ("limit", a.limit))
                              if v is not None}, deliveries),
}
