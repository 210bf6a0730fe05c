"""enodo-client's one-shot commands: each is one hub API action and a way to print its answer.

COMMANDS maps a command to (action, params from the arguments, renderer); the REST API
has one route per action (docs/api.md), so the client and REST cover the same ground.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from protocol.actions import SERIES_PAGE_MAX
from scripts import client_format as fmt
from scripts.client_alerts import ALERT_COMMANDS, add_alert_commands
from scripts.client_patterns import PATTERN_COMMANDS, add_pattern_commands
from scripts.client_template import param, rule, template_arguments, template_params

JOB_STATES = ("none", "queued", "running", "done", "failed")

Params = Callable[[argparse.Namespace], dict[str, Any] | None]
Render = Callable[[Any], str]


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be 1..1000")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add every one-shot command's parser (watch is added by the caller)."""
    add = sub.add_parser("add", help="watch a new series")
    add.add_argument("name")
    template_arguments(add)
    rules = sub.add_parser("rules", help="replace a series' rules (none given: remove them)")
    rules.add_argument("name")
    rules.add_argument("rules", nargs="*", type=rule, metavar="JSON",
                       help='e.g. \'{"kind": "forecast", "op": "above", "threshold": 95, '
                            '"within": "7d", "for_seconds": "30m", "keep_firing_for": "2h"}\' '
                            "(keys: docs/rules.md)")
    sub.add_parser("remove", help="stop watching a series").add_argument("name")
    _more_commands(sub)
    add_pattern_commands(sub)


def _more_commands(sub: argparse._SubParsersAction) -> None:
    listing = sub.add_parser("list", help="list watched series (every page, sorted by name)")
    listing.add_argument("--pattern", help="glob the whole name matches: *, ?, [abc]")
    listing.add_argument("--state", choices=JOB_STATES, help="state of the last job")
    listing.add_argument("--job", choices=("train", "fit", "forecast"),
                         help="the job kind --state looks at (default: any)")
    listing.add_argument("--model", help="model name")
    listing.add_argument("--limit", type=_positive_int, default=None,
                         help="at most N series (default: all, a page at a time)")
    sub.add_parser("show", help="show one series").add_argument("name")
    forecast = sub.add_parser("forecast", help="the latest forecast of a series (a page)")
    forecast.add_argument("name")
    forecast.add_argument("--offset", type=int, default=None, help="first point (default 0)")
    forecast.add_argument("--limit", type=_limit, default=None, help="points (1..1000)")
    anomalies = sub.add_parser("anomalies", help="anomalies and events of a series")
    anomalies.add_argument("name")
    anomalies.add_argument("--limit", type=_limit, default=None, help="newest N (1..1000)")
    sub.add_parser("accuracy", help="backtest accuracy of a series' model").add_argument("name")
    queue = sub.add_parser("queue", help="queue a train, fit or forecast job now")
    queue.add_argument("name")
    queue.add_argument("job", choices=("train", "fit", "forecast"))
    queue.add_argument("--wait", action="store_true", help="show progress until it ends")
    settings = sub.add_parser("settings", help="show the settings, or change some")
    settings.add_argument("changes", nargs="*", type=param, metavar="KEY=VALUE")
    sub.add_parser("status", help="the hub: version, uptime, peers, jobs")
    sub.add_parser("siridb", help="the hub's SiriDB connection")
    log = sub.add_parser("log", help="the hub's event log, newest first")
    log.add_argument("--limit", type=_limit, default=None, help="newest N (1..1000, default 100)")
    sub.add_parser("clients", help="list known clients")
    add_alert_commands(sub)


def _add_params(args: argparse.Namespace) -> dict[str, Any]:
    return {"name": args.name, **template_params(args)}


def _named(args: argparse.Namespace) -> dict[str, Any]:
    return {"name": args.name}


def _limited(args: argparse.Namespace) -> dict[str, Any] | None:
    params = {"name": args.name} if hasattr(args, "name") else {}
    for key in ("offset", "limit"):
        if getattr(args, key, None) is not None:
            params[key] = getattr(args, key)
    return params or None


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in ("pattern", "state", "job", "model")
            if getattr(args, key, None) is not None}


def list_pages(request: Callable[[str, dict[str, Any] | None], Any],
               filters: dict[str, Any] | None, most: int | None = None) -> dict[str, Any]:
    """Every page of list_series (or its first `most` series): {"series", "total"}.

    Follows `next` until the last page, so no series beyond the first page goes unseen;
    the first request carries only the filters (a hub from before paging answers it whole).
    """
    series: list[dict[str, Any]] = []
    params: dict[str, Any] | None = dict(filters) if filters else None
    while True:
        if most is not None:
            params = {**(params or {}), "limit": min(SERIES_PAGE_MAX, most - len(series))}
        page = request("list_series", params)
        series += page["series"]
        after = page.get("next")
        if after is None or (most is not None and len(series) >= most):
            total = page.get("total", len(series))
            # Not counted by the hub (a filter over many series): all pages read, all seen.
            return {"series": series, "total": len(series) if total is None and after is None
                    else total}
        params = {**(params or {}), "after": after}


COMMANDS: dict[str, tuple[str | Callable[[argparse.Namespace], str], Params, Render]] = {
    "add": ("add_series", _add_params,
            lambda d: f"added {fmt.show_name(d.get('name', ''))}\n{fmt.key_values(d)}"),
    "remove": ("remove_series", _named, lambda d: f"removed {fmt.show_name(d.get('name', ''))}"),
    "list": ("list_series", lambda a: _filters(a) or None, fmt.series_list),
    "show": ("get_series", _named, fmt.key_values),
    "forecast": ("get_forecast", _limited, fmt.forecast),
    "anomalies": ("get_anomalies", _limited, fmt.anomalies),
    "accuracy": ("get_accuracy", _named, fmt.accuracy),
    "queue": ("queue_job", lambda a: {"name": a.name, "job_type": a.job},
              lambda d: f"queued {d.get('job_type')} of {fmt.show_name(d.get('name', ''))}"),
    "settings": (lambda a: "set_settings" if a.changes else "get_settings",
                 lambda a: {"settings": dict(a.changes)} if a.changes else None, fmt.key_values),
    "status": ("enodo_status", lambda a: None, fmt.key_values),
    "siridb": ("siridb_status", lambda a: None, fmt.key_values),
    "log": ("event_log", _limited, fmt.event_log),
    "clients": ("list_clients", lambda a: None, fmt.clients),
    **ALERT_COMMANDS,
    "rules": ("set_rules", lambda a: {"name": a.name, "rules": a.rules}, fmt.key_values),
}


COMMANDS.update(PATTERN_COMMANDS)


def action_of(args: argparse.Namespace) -> tuple[str, dict[str, Any] | None]:
    """Return the API action and params a one-shot command sends."""
    action, params, _ = COMMANDS[args.command]
    return (action(args) if callable(action) else action), params(args)


def render(command: str, data: Any) -> str:
    """Return the human-readable output of a one-shot command."""
    return COMMANDS[command][2](data)
