"""Judging a series' rules (protocol/rules.py) where its points are: in every job.

Data rules are judged point by point on the points a job read that are newer than the
rule's state (`last_ts`), so a run on the wrong side continues across jobs and workers the
way the anomaly detector's state does. Forecast rules are judged on the forecast a job
made. Both hold before firing (`for_seconds`) and before resolving (`keep_firing_for`) in
data time: the points' timestamps, the forecasts' origins. Each returns the rule's new state
(protocol.rules.RuleState as JSON) with the changes to firing and back to ok it saw, oldest
first; the hub alerts those (pending is shown, not alerted).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from protocol.rules import DataRule, ForecastRule, Rule, RuleState, parse_rules

log = logging.getLogger(__name__)


def rules_of(context: Any) -> tuple[list[Rule], dict[str, Any]]:
    """The rules a job carries and their states ([] when none, or when they are unreadable)."""
    if not isinstance(context, Mapping) or not context.get("rules"):
        return [], {}
    try:
        rules = parse_rules(context["rules"])
    except ValueError as exc:
        log.warning("ignoring the job's rules: %s", exc)
        return [], {}
    states = context.get("rule_states")
    return rules, dict(states) if isinstance(states, Mapping) else {}


def _start(rule: Rule, previous: Any) -> dict[str, Any]:
    base = RuleState(id=rule.id or "", kind=rule.kind).to_dict()
    if isinstance(previous, Mapping):
        base.update({k: previous[k] for k in base if k in previous and k != "changes"})
    base["changes"] = []
    return base


def _finish(state: dict[str, Any]) -> dict[str, Any]:
    """The state to return: clear_start only when set (a hub from before keep_firing_for
    refuses a key it does not know; the hub fills in the default)."""
    if state["clear_start"] is None:
        del state["clear_start"]
    return state


def _move(state: dict[str, Any], status: str, ts: int, value: float | None) -> None:
    """Set the status; a change to firing, or from firing, is kept for the hub to alert."""
    old = state["status"]
    if status == old:
        return
    state["status"], state["since"] = status, ts
    if status == "firing" or old == "firing":
        changes = state["changes"]
        changes.append({"status": "ok" if status != "firing" else "firing", "ts": ts,
                        "value": value})
        del changes[:-RuleState.MAX_CHANGES]


def _judge(holds: tuple[float, float], state: dict[str, Any], wrong: bool, ts: int,
           unit: float, value: float | None, for_points: int = 1) -> None:
    """One judgement (a point, or a forecast at its origin ts): the run on the wrong side,
    the holds before firing (`for_points`, and holds[0]: `for_seconds`) and before resolving
    (holds[1]: `keep_firing_for`, counted from `clear_start`), in data time; unit: seconds
    per tick. The holds are the rule's, in seconds (parsed once per job, not per point)."""
    hold, keep = holds
    status = state["status"]
    if wrong:
        state["clear_start"] = None
        if state["run_start"] is None:
            state["run_start"], state["run_points"] = ts, 0
        state["run_points"] += 1
        lasted = (ts - state["run_start"]) * unit
        done = state["run_points"] >= for_points and lasted >= hold
        status = "firing" if done or status == "firing" else "pending"
    else:
        state["run_start"], state["run_points"] = None, 0
        if status == "firing" and keep:
            if state["clear_start"] is None:
                state["clear_start"] = ts
            cleared = (ts - state["clear_start"]) * unit >= keep
        else:
            cleared = True
        if cleared:
            state["clear_start"], status = None, "ok"
    _move(state, status, ts, value)


def judge_data(rule: DataRule, previous: Any, timestamps: Sequence[int],
               values: Sequence[float], unit: float) -> dict[str, Any]:
    """The data rule's state after the points newer than its last judged one (the first
    time, all the points: of the changes among them, only a breach still going on counts).

    unit: seconds per timestamp tick (the database's precision).
    """
    state = _start(rule, previous)
    after = state["last_ts"]
    holds = rule.hold_seconds, rule.keep_seconds
    for ts, value in zip(timestamps, values, strict=True):
        if (after is not None and ts <= after) or not math.isfinite(value):
            continue
        _judge(holds, state, rule.breached(value), ts, unit, value, rule.for_points)
        state["last_ts"], state["value"] = ts, value
    if after is None:
        # A rule judged for the first time goes over the history read: what fired and ended
        # there is past; only a breach still going on is news.
        state["changes"] = ([{"status": "firing", "ts": state["since"], "value": state["value"]}]
                            if state["status"] == "firing" else [])
    return _finish(state)


def _side(rule: ForecastRule, forecast: Mapping[str, Any]) -> Sequence[float | None]:
    if not rule.band:
        return forecast["mean"]
    return forecast["upper"] if rule.op == "above" else forecast["lower"]


def crossing(rule: ForecastRule, forecast: Mapping[str, Any]) -> tuple[int, float] | None:
    """When the forecast first crosses the rule's threshold, interpolated between the steps
    around it, and the value it expects there; None when it does not within the forecast."""
    stamps = forecast["timestamps"]
    before: tuple[int, float] | None = None
    for ts, value in zip(stamps, _side(rule, forecast), strict=True):
        if value is None or not math.isfinite(value):
            continue
        if rule.breached(value):
            if before is None or before[1] == value:
                return ts, value
            t0, v0 = before
            share = (rule.threshold - v0) / (value - v0)
            return int(round(t0 + share * (ts - t0))), value
        before = (ts, value)
    return None


def forecast_origin(stamps: Sequence[int]) -> int | None:
    """The forecast's origin: the step before its first (the last point modelled)."""
    if not stamps:
        return None
    step = stamps[1] - stamps[0] if len(stamps) > 1 else 0
    return stamps[0] - step


def judge_forecast(rule: ForecastRule, previous: Any, forecast: Mapping[str, Any],
                   unit: float) -> dict[str, Any]:
    """The forecast rule's state for this forecast: firing while it crosses within `within`
    (once that held `for_seconds`, until it has not for `keep_firing_for`)."""
    state = _start(rule, previous)
    origin = forecast_origin(forecast["timestamps"])
    if origin is None:
        return _finish(state)
    found = crossing(rule, forecast)
    state["crossing_at"], state["value"] = (found if found else (None, None))
    soon = found is not None and (found[0] - origin) * unit <= rule.within_seconds
    _judge((rule.hold_seconds, rule.keep_seconds), state, soon, origin, unit, state["value"])
    state["last_ts"] = origin
    return _finish(state)


def judge_rules(context: Any, timestamps: Sequence[int], values: Sequence[float],
                unit: float, forecast: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{rule id: new state} of the job's rules: data rules on the points, forecast rules on
    the forecast (when the job made one). {} when the job carries no rules."""
    rules, states = rules_of(context)
    out: dict[str, Any] = {}
    for rule in rules:
        previous = states.get(rule.id)
        if isinstance(rule, DataRule) and timestamps:
            out[rule.id] = judge_data(rule, previous, timestamps, values, unit)
        elif isinstance(rule, ForecastRule) and forecast is not None:
            out[rule.id] = judge_forecast(rule, previous, forecast, unit)
    return out


def rules_field(context: Any, points: Sequence[tuple[int, float]], unit: float,
                forecast: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{"rules": {id: state}} to add to a job's result, or {} when the job has no rules."""
    judged = judge_rules(context, [p[0] for p in points], [p[1] for p in points], unit, forecast)
    return {"rules": judged} if judged else {}
