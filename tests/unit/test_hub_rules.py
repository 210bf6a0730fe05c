"""The hub's side of rules and analysis: jobs carry them, results are checked, states kept,
changes alerted, horizons converted, stale series found (actors/hub/rules.py, staleness.py)."""

from __future__ import annotations

import pytest

from actors.hub.actions import run_action
from actors.hub.rules import forecast_steps
from actors.hub.staleness import StaleWatch
from protocol.errors import ProtocolError
from protocol.rules import parse_rules
from protocol.types import MessageType
from tests.support.hub_state import FakeJobs, RuleAlerts, counts, make_state, result, worker

DATA = {"kind": "data", "op": "above", "threshold": 90, "id": "hot", "severity": "critical"}
DISK = {"kind": "forecast", "op": "above", "threshold": 95, "within": "1h", "id": "full"}
ANALYSIS = {"points": 10, "health": "ok", "reasons": [], "interval": 60.0,
            "seasons": [{"points": 24.0, "period": 1440.0, "strength": 0.9}]}



@pytest.fixture
def hub(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    state.alerts = sink = RuleAlerts()
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=10, fit_every=5)
    run_action(state, "add_series", {"name": "s", "rules": [DATA, DISK], "horizon": "2h"})
    worker(state)
    return state, scheduler, jobs, sink


def train(hub, clock, **extra) -> None:
    state, scheduler, jobs, _ = hub
    counts(state, 10)
    scheduler.dispatch(clock.now)
    job = jobs.sent[-1]
    assert job.type is MessageType.TRAIN_MODEL
    scheduler.on_result(result(job, MessageType.JOB_RESULT, result={
        "kind": "train", "state": {"m": 1}, "count": 10, **extra}))


def test_train_results_keep_the_analysis_and_forecasts_get_the_horizon_in_steps(hub, clock):
    state, scheduler, jobs, _ = hub
    train(hub, clock, analysis=ANALYSIS)
    detail = run_action(state, "get_series", {"name": "s"})
    assert detail["analysis"]["interval"] == 60.0 and detail["analysis"]["analysed_at"] == 1000.0
    assert detail["horizon"] == "2h" and [r["id"] for r in detail["rules"]] == ["hot", "full"]
    scheduler.dispatch(clock.now)
    forecast = jobs.sent[-1]
    assert forecast.type is MessageType.FORECAST_SERIE
    assert forecast.body["settings"]["horizon"] == 120  # 2 h of 60 s points
    assert parse_rules(forecast.body["context"]["rules"]) == parse_rules(detail["rules"])
    assert forecast.body["context"]["rule_states"] == {}


def test_forecast_rules_stretch_the_horizon_to_reach_within(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    series = state.add_series("s", None, None, False,
                              rules=[{**DISK, "within": "7d"}])
    assert forecast_steps(series, 24) == 24  # no interval known yet: the setting
    series.interval = 600.0
    assert forecast_steps(series, 24) == 1009  # 7 days of 10 minutes, and the origin
    series.interval = 1.0
    assert forecast_steps(series, 24) == 10_000  # at most MAX_HORIZON


def test_rule_changes_in_results_are_alerted_and_states_kept(hub, clock):
    state, scheduler, jobs, sink = hub
    train(hub, clock, analysis=ANALYSIS, rules={"hot": {
        "id": "hot", "kind": "data", "status": "firing", "since": 5, "last_ts": 6, "value": 99.0,
        "run_start": 4, "run_points": 3,
        "changes": [{"status": "firing", "ts": 5, "value": 95.0}]}})
    [fired] = sink.alerts
    assert (fired.key, fired.kind, fired.status, fired.severity) == (
        "rule:s:hot", "rule", "firing", "critical")
    assert fired.series == "s" and fired.labels["rule"] == "hot" and "above 90" in fired.summary
    kept = state.series.get("s").rule_states["hot"]
    assert kept["status"] == "firing" and kept["changed_at"] == 1000.0 and "changes" not in kept
    scheduler.dispatch(clock.now)
    forecast = jobs.sent[-1]
    assert forecast.body["context"]["rule_states"]["hot"]["run_points"] == 3
    clock.now += 5
    scheduler.on_result(result(forecast, MessageType.JOB_RESULT, result={
        "kind": "forecast", "anomalies": [],
        "forecast": {"timestamps": [10, 20], "mean": [1.0, 2.0], "lower": [0, 0],
                     "upper": [3, 3]},
        "rules": {"full": {"id": "full", "kind": "forecast", "status": "firing",
                           "crossing_at": 15, "last_ts": 0, "since": 0, "value": 96.0,
                           "changes": [{"status": "firing", "ts": 0, "value": 96.0}]},
                  "gone": {"id": "gone", "kind": "data", "status": "ok"}}}))
    assert [(a.key, a.kind, a.status) for a in sink.alerts[1:]] == [
        ("rule:s:full", "forecast", "firing")]
    assert sink.alerts[1].details["crossing_at"] == 15
    states = run_action(state, "get_series", {"name": "s"})["rule_states"]
    assert set(states) == {"hot", "full"}  # a state for a rule the series lacks is dropped
    assert states["full"]["crossing_at"] == 15


@pytest.mark.parametrize("bad", [
    {"hot": {"id": "hot", "kind": "data", "status": "burning"}},
    {"hot": {"id": "hot", "kind": "data", "since": 10**18}},
    {"hot": {"id": "hot", "kind": "data", "status": "firing", "clear_start": -1}},
    {"hot": {"id": "hot", "kind": "data", "value": "x"}},
    {"hot": {"id": "hot", "kind": "data", "changes": [{"status": "firing", "ts": -1}]}},
    {"hot": {"id": "hot", "kind": "data", "changes": [{"status": "pending", "ts": 1}]}},
    {"hot": {"id": "hot", "kind": "data", "changes": [{"status": "ok", "ts": 1}] * 21}},
])
def test_a_malformed_rule_state_fails_the_job_and_changes_nothing(hub, clock, bad):
    state, _, _, sink = hub
    train(hub, clock, analysis=ANALYSIS, rules=bad)
    series = state.series.get("s")
    assert series.jobs["train"]["state"] == "failed"
    assert "malformed result" in series.jobs["train"]["error"]
    assert series.rule_states == {} and series.interval is None and sink.alerts == []
    assert state.store.get_model("s") is None


def test_a_malformed_analysis_fails_the_job(hub, clock):
    state, _, _, _ = hub
    train(hub, clock, analysis={**ANALYSIS, "interval": -1.0})
    assert state.series.get("s").jobs["train"]["state"] == "failed"
    assert "analysis" not in run_action(state, "get_series", {"name": "s"})


def test_set_rules_keeps_unchanged_states_and_resolves_removed_firing_ones(hub, clock):
    state, _, _, sink = hub
    series = state.series.get("s")
    series.rule_states = {"hot": {"id": "hot", "kind": "data", "status": "firing"},
                          "full": {"id": "full", "kind": "forecast", "status": "ok"}}
    answer = run_action(state, "set_rules", {"name": "s", "rules": [DISK]})
    assert [r["id"] for r in answer["rules"]] == ["full"]
    assert set(answer["rule_states"]) == {"full"}
    [resolved] = sink.alerts
    assert (resolved.key, resolved.status) == ("rule:s:hot", "resolved")
    with pytest.raises(ProtocolError, match=r"rules\[0\]: 'op' must be"):
        run_action(state, "set_rules", {"name": "s", "rules": [{**DATA, "op": "up"}]})
    assert [r["id"] for r in state.series.get("s").rules] == ["full"]  # nothing changed
    with pytest.raises(ProtocolError, match="not found"):
        run_action(state, "set_rules", {"name": "nope", "rules": []})
    assert run_action(state, "set_rules", {"name": "s", "rules": []})["rules"] == []
    assert "rules" not in run_action(state, "get_series", {"name": "s"})


def test_removing_a_series_resolves_its_firing_rules(hub):
    state, _, _, sink = hub
    state.series.get("s").rule_states = {"full": {"id": "full", "kind": "forecast",
                                                  "status": "firing"}}
    run_action(state, "remove_series", {"name": "s"})
    assert [(a.key, a.kind, a.status) for a in sink.alerts] == [
        ("rule:s:full", "forecast", "resolved")]


def test_rules_survive_a_hub_restart(hub, tmp_path, clock):
    state, _, _, _ = hub
    state.series.get("s").rule_states = {"hot": {"id": "hot", "kind": "data", "status": "ok"}}
    state.series.touch("s")
    state.flush()
    state.store.commit()
    again = make_state(tmp_path, clock=clock).series.get("s")
    assert [r["id"] for r in again.rules] == ["hot", "full"] and again.horizon == "2h"
    assert again.rule_states["hot"]["status"] == "ok"


def test_a_series_without_new_points_goes_stale_and_fresh_again(hub, clock):
    state, _, _, sink = hub
    watch = StaleWatch(state, factor=10, min_seconds=60)
    state.settings["reconcile_interval"] = 10.0
    series = state.series.get("s")
    watch.check(clock.now)  # not analysed: not watched
    series.interval = 30.0
    watch.check(clock.now)
    clock.now += 299
    watch.check(clock.now)
    assert sink.alerts == [] and watch.limit(series) == 300.0
    clock.now += 2
    watch.check(clock.now)
    [stale] = sink.alerts
    assert (stale.key, stale.status, stale.kind) == ("rule:s:stale", "firing", "rule")
    assert series.rule_states["stale"]["status"] == "firing"
    watch.check(clock.now + 100)
    assert len(sink.alerts) == 1  # firing once
    counts(state, 1)
    watch.check(clock.now + 101)
    assert [a.status for a in sink.alerts] == ["firing", "resolved"]
    assert run_action(state, "get_series", {"name": "s"})["rule_states"]["stale"]["status"] == "ok"
