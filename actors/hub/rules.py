"""The hub's side of a series' rules: checked once, sent with jobs, states kept and alerted.

Workers judge the rules (actors/worker/rules.py) and return each rule's state with the job's
result; the hub checks those values like any result (nothing stored if one is wrong), keeps
them on the series, and turns each change to firing or back to ok into an alert
(`state.alerts.notify`, key "rule:<series>:<rule id>"); pending (held by `for_seconds`) is
kept and shown, not alerted. See docs/rules.md.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import msgspec

from actors.hub.result_checks import Bounds
from actors.hub.series import Series
from protocol.alerts import Alert, AlertKind, AlertStatus, Severity
from protocol.analysis import Analysis
from protocol.jobs import JobKind, OutputKind
from protocol.rules import (
    HOLDS,
    ForecastRule,
    Rule,
    RuleState,
    check_rules,
    parse_rules,
    span_seconds,
)
from protocol.settings import MAX_HORIZON

if TYPE_CHECKING:  # the state calls resolve_all when a series goes
    from actors.hub.state import HubState


def rules_of(series: Series) -> list[Rule]:
    """The series' rules as typed values (they were checked when set)."""
    return parse_rules(series.rules)


def forecast_steps(series: Series, default: int) -> int:
    """Steps a forecast of the series needs: its horizon (a span converted with the analysed
    interval; the setting until one is known), stretched to reach every forecast rule's
    `within`, at most MAX_HORIZON."""
    steps, interval = default, series.interval
    if type(series.horizon) is int:
        steps = series.horizon
    elif isinstance(series.horizon, str) and interval:
        steps = math.ceil(span_seconds(series.horizon) / interval)
    if interval:
        for rule in rules_of(series):
            if isinstance(rule, ForecastRule):
                steps = max(steps, math.ceil(rule.within_seconds / interval) + 1)
    return max(1, min(MAX_HORIZON, steps))


def add_to_job(series: Series, kind: JobKind, settings: dict[str, Any],
               context: dict[str, Any]) -> None:
    """Put what the series' rules and horizon need into a job's settings and context."""
    if kind is JobKind.FORECAST:
        settings["horizon"] = forecast_steps(series, settings["horizon"])
    if series.rules:
        context["rules"] = [wire_rule(rule) for rule in series.rules]
        context["rule_states"] = {k: v for k, v in series.rule_states.items() if k != "stale"}


def wire_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored rule as a job carries it: holds of 0 (none) left out, so that a worker from
    before `keep_firing_for` (which refuses keys it does not know) still judges every rule
    that has no hold; one with a hold needs an upgraded worker."""
    return {key: value for key, value in rule.items() if key not in HOLDS or value}


def checked_states(state: HubState, series: Series, raw: Any) -> dict[str, dict[str, Any]]:
    """A result's rule states, checked; those of rules the series no longer has are left out.

    ValueError when one is malformed or out of range: the result changes nothing.
    """
    if raw is None:
        return {}
    kinds = {rule.id: rule.kind for rule in rules_of(series)}
    bounds = Bounds(state.wall(), state.siridb.precision)
    out = {}
    for rule_id, item in raw.items():
        try:
            checked = msgspec.convert(item, RuleState)
        except msgspec.ValidationError as exc:
            raise ValueError(f"rule state {rule_id!r:.40}: {exc}") from None
        if len(checked.changes) > RuleState.MAX_CHANGES:
            raise ValueError(f"rule state {rule_id!r:.40}: too many changes")
        for key in ("since", "last_ts", "run_start", "clear_start"):
            if getattr(checked, key) is not None:
                bounds.timestamp(getattr(checked, key), f"rule {key}")
        if checked.crossing_at is not None:
            bounds.timestamp(checked.crossing_at, "rule crossing_at", forecast=True)
        for change in checked.changes:
            bounds.timestamp(change.ts, "rule change ts")
        if kinds.get(rule_id) == checked.kind and checked.id == rule_id:
            out[rule_id] = checked.to_dict()
    return out


def apply_states(state: HubState, series: Series, states: dict[str, dict[str, Any]]) -> None:
    """Keep the new states; alert each change a job saw (to firing, back to ok)."""
    rules = {rule.id: rule for rule in rules_of(series)}
    for rule_id, new in states.items():
        changes = new.pop("changes", [])
        new["changed_at"] = (series.rule_states.get(rule_id) or {}).get("changed_at")
        for change in changes:
            alert(state, series, rules[rule_id], new, change)
            new["changed_at"] = state.wall()
        series.rule_states[rule_id] = new
    if states:
        state.series.touch(series.name)
        state.publish(series.name, "rules", {"rule_states": series.rule_states})


def alert(state: HubState, series: Series, rule: Rule, rule_state: dict[str, Any],
          change: dict[str, Any]) -> None:
    """Notify one change of one rule."""
    firing = change["status"] == "firing"
    side = f"{rule.op} {rule.threshold:g}"
    details: dict[str, Any] = {"rule": rule.to_json(), "value": change.get("value"),
                               "ts": change["ts"], "precision": state.siridb.precision}
    if isinstance(rule, ForecastRule):
        kind = AlertKind.FORECAST
        details["crossing_at"] = rule_state.get("crossing_at")
        summary = (f"{series.name} is forecast to go {side} within {rule.within}" if firing
                   else f"{series.name} is no longer forecast to go {side} within {rule.within}")
    else:
        kind = AlertKind.RULE
        summary = (f"{series.name} is {side} ({change.get('value')!r:.20})" if firing
                   else f"{series.name} is no longer {side} ({change.get('value')!r:.20})")
    notify(state, series, rule.id or "", kind, firing, rule.severity, summary, details)


def notify(state: HubState, series: Series, rule_id: str, kind: AlertKind, firing: bool,
           severity: Severity, summary: str, details: dict[str, Any]) -> None:
    """One alert change about one rule of one series (key "rule:<series>:<rule id>")."""
    state.alerts.notify(Alert(
        key=f"rule:{series.name}:{rule_id}", kind=kind,
        status=AlertStatus.FIRING if firing else AlertStatus.RESOLVED, series=series.name,
        severity=severity, at=state.wall(), summary=summary,
        labels={"rule": rule_id, "model": series.model}, details=details))


def resolve_all(state: HubState, series: Series, why: str, keep: frozenset[str] = frozenset()
                ) -> None:
    """Resolve the firing alerts of the series' rules (but those in keep); forget their states."""
    rules = {rule.id: rule for rule in rules_of(series)}
    for rule_id, rule_state in list(series.rule_states.items()):
        if rule_id in keep:
            continue
        if rule_state.get("status") == "firing":
            rule = rules.get(rule_id)
            kind = AlertKind.FORECAST if isinstance(rule, ForecastRule) else AlertKind.RULE
            notify(state, series, rule_id, kind, False,
                   rule.severity if rule else Severity.WARNING,
                   f"{series.name}: rule {rule_id} {why}", {"reason": why})
        if rule_id != "stale":
            del series.rule_states[rule_id]


def set_rules(state: HubState, series: Series, raw: Any) -> dict[str, Any]:
    """Replace the series' rules (all valid, or nothing changes); a rule kept unchanged keeps
    its state, the others start again (a firing one removed or changed is resolved)."""
    new = check_rules(raw)
    # Compared with defaults filled: a rule stored before a key was added is the same rule.
    stored = check_rules(series.rules)
    kept = frozenset(r["id"] for r in new if r in stored) | {"stale"}
    resolve_all(state, series, "removed or changed", keep=kept)
    series.rules = new
    state.store.put_series_config(series.name, series.config())
    state.series.touch(series.name)
    state.event("rules_changed", f"series {series.name!r} rules: "
                + (", ".join(r["id"] for r in new) or "none"), series.name)
    return {"name": series.name, "rules": series.rules, "rule_states": series.rule_states}


def checked_analysis(raw: Any) -> dict[str, Any] | None:
    """A train result's analysis as stored; ValueError when it is not the documented shape."""
    if raw is None:
        return None
    try:
        return msgspec.convert(raw, Analysis).to_dict()
    except msgspec.ValidationError as exc:
        raise ValueError(f"analysis: {exc}") from None


def store_analysis(state: HubState, series: Series, analysis: dict[str, Any]) -> None:
    """Keep the analysis (stamped with the hub's clock) and the interval it found."""
    state.store.put_output(series.name, OutputKind.ANALYSIS,
                           {**analysis, "analysed_at": state.wall()})
    series.interval = analysis.get("interval")


def detail(state: HubState, series: Series) -> dict[str, Any]:
    """What GET /series/{name} adds for rules, horizon and analysis (only what is set)."""
    out: dict[str, Any] = {}
    if series.horizon is not None:
        out["horizon"] = series.horizon
    if series.rules:
        out["rules"] = series.rules
    if series.rule_states:
        out["rule_states"] = series.rule_states
    analysis = state.store.get_output(series.name, OutputKind.ANALYSIS)
    if analysis is not None:
        out["analysis"] = analysis
    return out
