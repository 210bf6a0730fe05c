"""The hub's side of held rules: forecast jobs carry the state, the worker's judging (the real
actors/worker/rules.py) returns pending or firing, the hub keeps and shows pending and alerts
only firing and resolved; bad holds are refused and change nothing."""

from __future__ import annotations

import pytest

from actors.hub.actions import run_action
from actors.worker.rules import rules_field
from protocol.errors import ProtocolError
from protocol.rules import parse_rules
from protocol.types import MessageType
from tests.support.hub_state import FakeJobs, RuleAlerts, counts, make_state, result, worker
from tests.unit.test_rule_holds import HOVER, STEP, forecast

HELD = {"kind": "forecast", "op": "above", "threshold": 95, "within": 30, "id": "full",
        "for_seconds": "1m", "keep_firing_for": 60}



@pytest.fixture
def hub(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    state.alerts = sink = RuleAlerts()
    jobs = FakeJobs(state)
    state.settings.update(min_data_points=10, fit_every=1000)
    run_action(state, "add_series", {"name": "s", "rules": [HELD]})
    worker(state)
    counts(state, 10)
    state.scheduler.dispatch(clock.now)
    state.scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={
        "kind": "train", "state": {"m": 1}, "count": 10}))
    return state, jobs, sink


def forecast_job(hub, clock, origin: int, soon: bool) -> dict:
    """The next forecast job, judged by the worker's code on the context the hub sent."""
    state, jobs, _ = hub
    state.scheduler.dispatch(clock.now)
    job = jobs.sent[-1]
    assert job.type is MessageType.FORECAST_SERIE
    made = forecast(origin, soon)
    state.scheduler.on_result(result(job, MessageType.JOB_RESULT, result={
        "kind": "forecast", "anomalies": [], "forecast": made,
        **rules_field(job.body["context"], [], 1.0, made)}))
    run_action(state, "queue_job", {"name": "s", "job_type": "forecast"})
    return run_action(state, "get_series", {"name": "s"})["rule_states"]["full"]


def test_a_hovering_forecast_is_pending_then_fires_once_and_resolves_once(hub, clock):
    _, _, sink = hub
    shown = [forecast_job(hub, clock, k * STEP, soon) for k, soon in enumerate(HOVER)]
    assert [s["status"] for s in shown[:8]] == [
        "pending", "ok", "pending", "ok", "pending", "pending", "pending", "firing"]
    assert shown[6]["run_start"] == 80 and shown[6]["changed_at"] is None  # no alert yet
    assert shown[14]["status"] == "firing" and shown[14]["clear_start"] == 240
    assert shown[15]["status"] == "ok" and shown[15]["clear_start"] is None
    assert [(a.key, a.kind, a.status, a.details["ts"]) for a in sink.alerts] == [
        ("rule:s:full", "forecast", "firing", 140), ("rule:s:full", "forecast", "resolved", 300)]


def test_a_pending_rule_changed_or_removed_raises_no_alert(hub, clock):
    state, _, sink = hub
    assert forecast_job(hub, clock, 0, True)["status"] == "pending"
    run_action(state, "set_rules", {"name": "s", "rules": []})
    assert sink.alerts == []


@pytest.mark.parametrize(("bad", "words"), [
    ({"for_seconds": "soon"}, r"rules\[0\]: 'for_seconds' must be a span"),
    ({"keep_firing_for": 0.0 - 1}, r"rules\[0\]: 'keep_firing_for' must be a span"),
    ({"keep_firing_for": [60]}, r"rules\[0\]: 'keep_firing_for' must be a span"),
])
def test_bad_holds_are_refused_and_change_nothing(hub, clock, bad, words):
    state, _, _ = hub
    forecast_job(hub, clock, 0, True)
    before = run_action(state, "get_series", {"name": "s"})
    with pytest.raises(ProtocolError, match=words):
        run_action(state, "set_rules", {"name": "s", "rules": [{**HELD, **bad}]})
    after = run_action(state, "get_series", {"name": "s"})
    assert (after["rules"], after["rule_states"]) == (before["rules"], before["rule_states"])


def test_a_rule_stored_before_the_holds_is_the_same_rule_when_put_again(hub, clock):
    state, _, sink = hub
    series = state.series.get("s")
    stored = {k: v for k, v in HELD.items() if k not in ("for_seconds", "keep_firing_for")}
    series.rules = [{**stored, "severity": "warning", "band": False}]  # as stored before
    series.rule_states = {"full": {"id": "full", "kind": "forecast", "status": "firing"}}
    run_action(state, "set_rules", {"name": "s", "rules": [stored]})
    assert series.rule_states["full"]["status"] == "firing" and sink.alerts == []


def test_a_job_leaves_out_holds_of_zero_so_a_worker_from_before_them_judges_the_rule(
        hub, clock):
    state, jobs, _ = hub
    plain = {"kind": "data", "op": "above", "threshold": 5, "id": "hot"}
    run_action(state, "set_rules", {"name": "s", "rules": [HELD, plain]})
    stored = state.series.get("s").rules
    assert {"for_seconds", "keep_firing_for"} <= set(stored[1])  # stored with every key
    state.scheduler.dispatch(clock.now)
    held, sent = jobs.sent[-1].body["context"]["rules"]
    assert "for_seconds" not in sent and "keep_firing_for" not in sent
    assert (held["for_seconds"], held["keep_firing_for"]) == ("1m", 60)
    assert parse_rules([held, sent]) == parse_rules(stored)
