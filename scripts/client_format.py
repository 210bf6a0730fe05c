"""Human-readable output of enodo-client: tables, key/value blocks, one line per update."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from protocol.envelope import Message, dumps


def to_json(value: Any) -> str:
    """Compact JSON, UTF-8 kept readable."""
    return dumps(value).decode()


def show_name(name: str) -> str:
    """A series name as printed: as is, or JSON-quoted when it would mislead in a table."""
    if name and name.isprintable() and name == name.strip() and " " not in name:
        return name
    return to_json(name)


def show_time(ts: Any) -> str:
    """A UNIX timestamp as local ISO time (seconds); other values as they are."""
    if isinstance(ts, (int, float)) and not isinstance(ts, bool):
        return datetime.datetime.fromtimestamp(ts).isoformat(timespec="seconds")
    return "-" if ts is None else str(ts)


def show_value(value: Any) -> str:
    """A value in a table cell or after `key:`."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return to_json(value)
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns under headers."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def jobs_cell(jobs: Any) -> str:
    """The job states of a series, e.g. `train=done fit=queued forecast=none`."""
    if not isinstance(jobs, dict):
        return show_value(jobs)
    parts = []
    for kind, state in jobs.items():
        if isinstance(state, dict):
            state = state.get("state")
        parts.append(f"{kind}={state}")
    return " ".join(parts)


def series_list(data: Any) -> str:
    """The output of `list`."""
    series = data.get("series", []) if isinstance(data, dict) else []
    if not series:
        return "no series watched"
    rows = [
        [
            show_name(str(s.get("name", ""))),
            show_value(s.get("model")),
            show_value(s.get("points")),
            show_value(s.get("realtime")),
            jobs_cell(s.get("jobs")),
        ]
        for s in series
    ]
    return table(["NAME", "MODEL", "POINTS", "REALTIME", "JOBS"], rows)


def key_values(data: Any) -> str:
    """A JSON object as `key: value` lines (the output of `show`)."""
    if not isinstance(data, dict):
        return show_value(data)
    width = max((len(k) for k in data), default=0)
    lines = []
    for key, value in data.items():
        if key == "name":
            shown = show_name(str(value))
        elif key == "jobs":
            shown = jobs_cell(value)
        elif key.endswith("_at") or key in ("ts", "last_seen", "first_seen"):
            shown = show_time(value)
        else:
            shown = show_value(value)
        lines.append(f"{key.ljust(width)}  {shown}")
    return "\n".join(lines)


def clients(data: Any) -> str:
    """The output of `clients`."""
    items = data.get("clients", []) if isinstance(data, dict) else []
    if not items:
        return "no clients known"
    rows = [
        [
            show_value(c.get("client_id")),
            show_value(c.get("client_type")),
            show_value(c.get("version")),
            "online" if c.get("online") else "offline",
            show_time(c.get("last_seen")),
        ]
        for c in items
    ]
    return table(["CLIENT_ID", "TYPE", "VERSION", "STATE", "LAST_SEEN"], rows)


def update_line(msg: Message, now: float | None = None) -> str:
    """One SERIES_UPDATE as one line: time, series, event, data."""
    stamp = show_time(now if now is not None else datetime.datetime.now().timestamp())
    body = msg.body
    return f"{stamp} {show_name(body['name'])} {body['event']} {to_json(body['data'])}"
