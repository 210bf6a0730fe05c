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
