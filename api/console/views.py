"""Shapes of what the console shows, made from hub answers (pure: tested without a hub)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.resources import Hub

#: Forecast pages read for one chart at most (horizon is at most 10,000: 10 pages).
MAX_FORECAST_PAGES = 10


def job_state(jobs: dict[str, Any]) -> str:
    """One word for a series' jobs: what runs, what waits, what failed, else ready/new."""
    states = {kind: (job["state"] if isinstance(job, dict) else job) for kind, job in jobs.items()}
    for wanted in ("running", "queued", "failed"):
        kinds = [kind for kind, state in states.items() if state == wanted]
        if kinds:
            return f"{wanted}: {', '.join(kinds)}"
    return "ready" if states.get("train") == "done" else "new"


def model_label(model: str, accuracy: dict[str, Any] | None) -> str:
    """The series' model, and for `auto` what the last training chose (auto -> ets)."""
    chosen = ((accuracy or {}).get("model") or {}).get("name") or ""
    if model == "auto" and chosen.startswith("auto:"):
        return f"auto → {chosen.removeprefix('auto:')}"
    return model


def accuracy_label(accuracy: dict[str, Any] | None) -> str:
    """MASE of the model against that of seasonal naive, or why there is none."""
    model = (accuracy or {}).get("model")
    base = (accuracy or {}).get("baseline")
    if not model or model.get("mase") is None:
        return "not measured"
    text = f"{model['mase']:.2f}"
    if base and base.get("mase") is not None:
        verdict = "better" if model["mase"] < base["mase"] else "worse"
        text += f" vs {base['mase']:.2f} naive ({verdict})"
    return text


def series_rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The console_series rows with their labels."""
    return [{**row, "state": job_state(row["jobs"]),
             "model_label": model_label(row["model"], row["accuracy"]),
             "accuracy_label": accuracy_label(row["accuracy"])} for row in page["series"]]


def to_iso(ts: float) -> str:
    """A SiriDB timestamp as ISO time for the chart's axis.

    The precision is guessed from the size: a second-precision timestamp stays below
    1e11 until the year 5138, ms below 1e14, us below 1e17.
    """
    for scale in (1, 1e3, 1e6, 1e9):
        if abs(ts) < 1e11 * scale:
            return dt.datetime.fromtimestamp(ts / scale, dt.UTC).isoformat()
    return dt.datetime.fromtimestamp(ts / 1e9, dt.UTC).isoformat()


def read_forecast(hub: Hub, name: str) -> dict[str, Any]:
    """The whole latest forecast (every page), as one page-shaped answer."""
    first = hub.request("get_forecast", {"name": name})
    points = list(first["points"])
    pages = 1
    while first.get("next_offset") is not None and pages < MAX_FORECAST_PAGES:
        page = hub.request("get_forecast", {"name": name, "offset": len(points)})
        points.extend(page["points"])
        pages += 1
        if page.get("next_offset") is None:
            break
    return {**first, "points": points}


def chart_data(history: list[tuple[int, float]], forecast: dict[str, Any],
               anomalies: dict[str, Any], history_error: str | None) -> dict[str, Any]:
    """Columns for the series chart; raw timestamps ride along so tests can compare."""
    points = forecast["points"]
    marks = anomalies["anomalies"]
    return {
        "history": {"x": [to_iso(t) for t, _ in history], "y": [v for _, v in history],
                    "error": history_error},
        "forecast": {"x": [to_iso(p["timestamp"]) for p in points],
                     "ts": [p["timestamp"] for p in points],
                     "mean": [p["mean"] for p in points], "lower": [p["lower"] for p in points],
                     "upper": [p["upper"] for p in points], "level": forecast.get("level")},
        "anomalies": {"x": [to_iso(a["timestamp"]) for a in marks],
                      "ts": [a["timestamp"] for a in marks],
                      "y": [a.get("value") for a in marks],
                      "score": [a.get("score") for a in marks]},
        "events": [{**e, "x0": to_iso(e["start"]), "x1": to_iso(e["end"] or e["start"])}
                   for e in anomalies["events"]],
    }


def _span(seconds: float) -> str:
    """Seconds as the largest unit that fits (90 -> 1.5m, 86400 -> 1d)."""
    for unit, size in (("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds:.3g}s"


def rule_rows(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """Each rule (and the hub's stale check) with its state: status, since, crossing time."""
    states = detail.get("rule_states") or {}
    rows = []
    for rule in detail.get("rules") or []:
        state = states.get(rule["id"]) or {}
        condition = f"{rule['op']} {rule['threshold']:g}"
        if rule["kind"] == "forecast":
            within = rule["within"]
            condition += f" within {_span(within) if isinstance(within, int | float) else within}"
            condition += " (band)" if rule.get("band") else ""
        condition += _holds(rule)
        rows.append(_rule_row(rule["id"], rule["kind"], condition, rule["severity"], state))
    if "stale" in states:
        rows.append(_rule_row("stale", "stale", "no new points for stale_factor intervals", "",
                              states["stale"]))
    return rows


def _holds(rule: dict[str, Any]) -> str:
    """The rule's holds as text (" for 15m, keep 1h"); "" when it has none."""
    words = [f"{word} {_span(value) if isinstance(value, int | float) else value}"
             for word, key in (("for", "for_seconds"), ("keep", "keep_firing_for"))
             if (value := rule.get(key))]
    return " " + ", ".join(words) if words else ""


def _rule_row(rule_id: str, kind: str, condition: str, severity: str,
              state: dict[str, Any]) -> dict[str, Any]:
    # since: where the status began (the series' precision); the stale check has only the
    # hub's wall-clock changed_at.
    since = state.get("since") if state.get("since") is not None else state.get("changed_at")
    crossing = state.get("crossing_at")
    return {"id": rule_id, "kind": kind, "condition": condition, "severity": severity,
            "status": state.get("status", "unknown"),
            "since": to_iso(since) if since is not None else "",
            "crossing": to_iso(crossing) if crossing is not None else "",
            "value": state.get("value")}


def analysis_rows(analysis: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The base analysis as label/text pairs (only what it has: few points give few)."""
    if not analysis:
        return []
    out = [("points", str(analysis["points"]))]
    if analysis.get("interval") is None:  # too few points: health and reasons only
        return out
    out.append(("interval", _span(analysis["interval"])))
    if analysis.get("regularity") is not None:
        out.append(("regularity", f"{analysis['regularity']:.0%} of steps on the interval"))
    seasons = [f"{_span(s['period'])} (strength {s['strength']:.2f})"
               for s in analysis.get("seasons") or []]
    out.append(("seasons", ", ".join(seasons) or "none found"))
    if analysis.get("trend"):
        trend = analysis["trend"]
        out.append(("trend", f"{trend['direction']} (strength {trend['strength']:.2f}, "
                             f"change {trend['change']:.4g} over the span)"))
    if analysis.get("noise") is not None:
        ratio = analysis.get("noise_ratio")
        out.append(("noise", f"{analysis['noise']:.4g}"
                             + (f" ({ratio:.0%} of the spread)" if ratio is not None else "")))
    return out
