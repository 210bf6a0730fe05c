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
    total = data.get("total", len(series)) if isinstance(data, dict) else 0
    if not series:
        return "no series watched" if not total else f"none of the {total} series shown"
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
    shown = table(["NAME", "MODEL", "POINTS", "REALTIME", "JOBS"], rows)
    if isinstance(total, int) and total > len(series):
        shown += f"\n{len(series)} of {total} series shown"
    return shown


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


def is_change(msg: Message) -> bool:
    """Whether an update is worth a line by default: not a job's routine state change.

    A fit-and-forecast cycle pushes queued, running and done for each job; the change a
    person cares about is the new forecast (and any anomaly), or a job that failed.
    """
    body = msg.body
    return body.get("event") != "state" or (body.get("data") or {}).get("state") == "failed"


def update_line(msg: Message, now: float | None = None) -> str:
    """One SERIES_UPDATE as one line: time, series, event, what changed."""
    stamp = show_time(now if now is not None else datetime.datetime.now().timestamp())
    body = msg.body
    return f"{stamp} {show_name(body['name'])} {body['event']} {_update_text(body)}"


def _update_text(body: dict[str, Any]) -> str:
    data = body.get("data")
    event = body.get("event")
    if not isinstance(data, dict):
        return to_json(data)
    if event == "anomalies" and isinstance(data.get("anomalies"), list):
        return "; ".join(
            f"{show_ts(a.get('timestamp'))} value {_num(a.get('value'))} expected "
            f"{_num(a.get('expected'))} [{_num(a.get('lower'))}, {_num(a.get('upper'))}] "
            f"score {_num(a.get('score'))}" for a in data["anomalies"] if isinstance(a, dict))
    if event == "anomaly_event":
        return (f"event {show_value(data.get('state'))}: {show_ts(data.get('start'))} to "
                f"{show_ts(data.get('end'))}, {show_value(data.get('points'))} points, "
                f"peak {_num(data.get('peak'))}")
    if event == "rules" and isinstance(data.get("rule_states"), dict):
        return "; ".join(
            f"{rule_id} {show_value(st.get('status'))}"
            + (f" crossing {show_ts(st['crossing_at'])}" if st.get("crossing_at") else "")
            for rule_id, st in data["rule_states"].items() if isinstance(st, dict))
    return to_json(data)


def show_ts(ts: Any) -> str:
    """A series timestamp (s or ms, as SiriDB keeps it) as UTC time to the minute."""
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        return show_value(ts)
    seconds = ts / 1000 if ts > 10**11 else ts  # ms precision: the demo's and most series'
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def _num(value: Any, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else show_value(value)


def forecast(data: Any) -> str:
    """The output of `forecast`."""
    points = data.get("points", []) if isinstance(data, dict) else []
    if not points:
        return f"no forecast of {show_name(str(data.get('name', '')))} yet"
    level = data.get("level")
    head = f"forecast of {show_name(str(data['name']))} made {show_time(data.get('forecast_at'))}"
    rows = [[show_ts(p.get("timestamp")), _num(p.get("mean")), _num(p.get("lower")),
             _num(p.get("upper"))] for p in points]
    width = f"{level:.0%}" if isinstance(level, (int, float)) else "interval"
    out = head + "\n" + table(["TIME", "MEAN", f"LOWER ({width})", "UPPER"], rows)
    if data.get("next_offset") is not None:  # the hub serves long forecasts in pages
        out += (f"\npoints {data.get('offset', 0)}-{data['next_offset'] - 1} of "
                f"{data.get('total')}; more with --offset {data['next_offset']}")
    return out


def anomalies(data: Any) -> str:
    """The output of `anomalies`: the events, then the anomalous points."""
    events = data.get("events", []) if isinstance(data, dict) else []
    points = data.get("anomalies", []) if isinstance(data, dict) else []
    name = show_name(str(data.get("name", ""))) if isinstance(data, dict) else ""
    if not events and not points:
        return f"no anomalies in {name}"
    out = [f"{len(events)} events in {name}:", table(
        ["START", "END", "POINTS", "PEAK", "STATE"],
        [[show_ts(e.get("start")), show_ts(e.get("end")), show_value(e.get("points")),
          _num(e.get("peak")), show_value(e.get("state"))] for e in events])]
    out += [f"{len(points)} anomalous points:", table(
        ["TIME", "VALUE", "EXPECTED", "LOWER", "UPPER", "SCORE"],
        [[show_ts(p.get("timestamp")), _num(p.get("value")), _num(p.get("expected")),
          _num(p.get("lower")), _num(p.get("upper")), _num(p.get("score"))] for p in points])]
    return "\n".join(out)


def accuracy(data: Any) -> str:
    """The output of `accuracy`: the model against the seasonal-naive baseline."""
    if not isinstance(data, dict):
        return show_value(data)
    if data.get("error"):
        return f"no accuracy for {show_name(str(data.get('name', '')))}: {data['error']}"
    rows = [[str(kind), show_value((data.get(kind) or {}).get("name")),
             *(_num((data.get(kind) or {}).get(k), 3) for k in ("mase", "smape", "coverage"))]
            for kind in ("model", "baseline")]
    head = (f"{show_name(str(data.get('name', '')))}: backtest of {show_value(data.get('origins'))}"
            f" origins, horizon {show_value(data.get('horizon'))}, measured "
            f"{show_time(data.get('measured_at'))}")
    return head + "\n" + table(["", "NAME", "MASE", "SMAPE", "COVERAGE"], rows)


def event_log(data: Any) -> str:
    """The output of `log`."""
    events = data.get("events", []) if isinstance(data, dict) else []
    if not events:
        return "no events"
    rows = [[show_time(e.get("ts")), show_value(e.get("level")), show_value(e.get("kind")),
             show_name(str(e["series"])) if e.get("series") else "-",
             show_value(e.get("message"))] for e in events]
    return table(["TIME", "LEVEL", "KIND", "SERIES", "MESSAGE"], rows)
