"""Rules: their checks (protocol/rules.py) and how a worker judges them (actors/worker/rules.py)."""

from __future__ import annotations

import pytest

from actors.worker.rules import crossing, judge_data, judge_forecast, judge_rules
from protocol.errors import ProtocolError
from protocol.rules import (
    DataRule,
    ForecastRule,
    check_horizon,
    check_rules,
    parse_rules,
    span_seconds,
)


def data(**kw) -> DataRule:
    return parse_rules([{"kind": "data", "op": "above", "threshold": 90, **kw}])[0]


def fc_rule(**kw) -> ForecastRule:
    return parse_rules([{"kind": "forecast", "op": "above", "threshold": 95, "within": 100,
                         **kw}])[0]


@pytest.mark.parametrize(("text", "seconds"), [
    (90, 90.0), (1.5, 1.5), ("90s", 90.0), ("15m", 900.0), ("6h", 21600.0), ("7d", 604800.0),
    ("2w", 1209600.0), (" 1.5h ", 5400.0)])
def test_spans_are_seconds_or_a_number_with_a_unit(text, seconds):
    assert span_seconds(text) == seconds


@pytest.mark.parametrize("bad", [0, -1, "5", "5y", "h", True, None, float("inf"), "1e9w"])
def test_a_bad_span_is_refused(bad):
    with pytest.raises(ValueError, match="span"):
        span_seconds(bad)


def test_rules_get_ids_and_defaults_and_are_served_whole():
    rules = check_rules([{"kind": "data", "op": "above", "threshold": 90},
                         {"kind": "forecast", "op": "below", "threshold": 5.5, "within": "7d",
                          "id": "disk", "severity": "critical", "band": True}])
    assert rules == [
        {"kind": "data", "op": "above", "threshold": 90.0, "id": "data-above-90",
         "severity": "warning", "for_points": 1, "for_seconds": 0.0, "keep_firing_for": 0.0},
        {"kind": "forecast", "op": "below", "threshold": 5.5, "id": "disk",
         "severity": "critical", "within": "7d", "band": True, "for_seconds": 0.0,
         "keep_firing_for": 0.0},
    ]
    assert check_rules(rules) == rules  # stored rules read back unchanged


@pytest.mark.parametrize(("rules", "words"), [
    ("x", "must be a list"),
    ([1], r"rules\[0\] must be an object"),
    ([{"op": "above", "threshold": 1}], "missing key 'kind'"),
    ([{"kind": "pattern", "op": "above", "threshold": 1}], "'kind' must be 'data' or"),
    ([{"kind": "data", "op": "up", "threshold": 1}], "'op' must be 'above' or 'below'"),
    ([{"kind": "data", "op": "above"}], "missing key 'threshold'"),
    ([{"kind": "data", "op": "above", "threshold": "9"}], "'threshold' must be a finite"),
    ([{"kind": "data", "op": "above", "threshold": 1, "for_points": 0}], "'for_points' must"),
    ([{"kind": "data", "op": "above", "threshold": 1, "for_seconds": "5y"}], "'for_seconds'"),
    ([{"kind": "data", "op": "above", "threshold": 1, "nope": 1}], "unexpected key 'nope'"),
    ([{"kind": "data", "op": "above", "threshold": 1, "id": "a b"}], "'id' must be 1 to 64"),
    ([{"kind": "data", "op": "above", "threshold": 1, "id": "stale"}], "reserved"),
    ([{"kind": "forecast", "op": "above", "threshold": 1}], "missing key 'within'"),
    ([{"kind": "data", "op": "above", "threshold": 1}] * 2, "used twice"),
    ([{"kind": "data", "op": "above", "threshold": i} for i in range(21)], "at most 20"),
])
def test_bad_rules_are_refused_naming_the_rule_and_key(rules, words):
    with pytest.raises(ProtocolError, match=words) as info:
        check_rules(rules)
    assert info.value.code.value == "invalid"


def test_a_horizon_is_steps_or_a_span_text():
    assert check_horizon(None) is None
    assert check_horizon(48) == 48
    assert check_horizon("6h") == "6h"
    for bad in (0, 10_001, "6 parsecs", 1.5, True):
        with pytest.raises(ProtocolError, match="horizon"):
            check_horizon(bad)


def test_a_data_rule_fires_after_n_points_in_a_row_and_resolves_at_the_first_point_back():
    rule = data(for_points=3)
    ts = [1, 2, 3, 4, 5, 6, 7]
    values = [50, 95, 96, 80, 91, 92, 93]
    state = judge_data(rule, None, ts[:6], values[:6], 1.0)
    assert state["status"] == "pending" and state["run_points"] == 2 and state["run_start"] == 5
    assert state["changes"] == []  # the first run was cut short at ts 4: never firing
    state = judge_data(rule, state, ts, values, 1.0)  # the same points again, and one more
    assert state["status"] == "firing" and state["since"] == 7 and state["value"] == 93
    assert state["changes"] == [{"status": "firing", "ts": 7, "value": 93}]
    state = judge_data(rule, state, [8, 9], [89.0, 99.0], 1.0)
    assert state["status"] == "pending"
    assert state["changes"] == [{"status": "ok", "ts": 8, "value": 89.0}]
    assert state["last_ts"] == 9 and state["run_start"] == 9


def test_a_data_rule_for_seconds_counts_time_in_the_series_precision():
    rule = data(op="below", threshold=10, for_seconds="2m")
    ms = [0, 60_000, 120_000, 150_000]
    state = judge_data(rule, None, ms[:2], [5, 5], 1e-3)
    assert state["status"] == "pending"  # 60 s below
    state = judge_data(rule, state, ms, [5, 5, 5, 5], 1e-3)
    assert state["status"] == "firing" and state["since"] == 120_000


def test_a_fire_and_resolve_between_two_jobs_is_still_reported():
    state = judge_data(data(), None, [1], [50], 1.0)
    state = judge_data(data(), state, [1, 2, 3, 4], [50, 91, 50, 50], 1.0)
    assert state["status"] == "ok"
    assert [c["status"] for c in state["changes"]] == ["firing", "ok"]


def test_a_new_rule_reports_only_a_breach_still_going_on_in_the_history():
    history = judge_data(data(), None, [1, 2, 3, 4], [91, 50, 95, 96], 1.0)
    assert history["status"] == "firing" and history["since"] == 3
    assert history["changes"] == [{"status": "firing", "ts": 3, "value": 96}]
    assert judge_data(data(), None, [1, 2, 3], [91, 50, 50], 1.0)["changes"] == []


def test_a_forecast_crossing_is_interpolated_between_steps():
    forecast = {"timestamps": [10, 20, 30, 40], "mean": [80, 90, 100, 110],
                "lower": [70, 80, 90, 100], "upper": [90, 100, 110, 120]}
    assert crossing(fc_rule(), forecast) == (25, 100)
    assert crossing(fc_rule(band=True), forecast) == (15, 100)  # the upper bound crosses first
    assert crossing(fc_rule(threshold=200), forecast) is None
    assert crossing(fc_rule(op="below", threshold=95, band=True), forecast) == (10, 70)
    assert crossing(fc_rule(op="below", threshold=75), forecast) is None


def test_a_forecast_rule_fires_only_when_the_crossing_is_within_its_span():
    forecast = {"timestamps": [10, 20, 30, 40], "mean": [80, 90, 100, 110],
                "lower": [None] * 4, "upper": [None] * 4}
    # origin 0 (a step before the first); crossing at 25
    state = judge_forecast(fc_rule(within=30), None, forecast, 1.0)
    assert state["status"] == "firing" and state["crossing_at"] == 25
    assert state["changes"] == [{"status": "firing", "ts": 0, "value": 100}]
    later = judge_forecast(fc_rule(within=20), state, forecast, 1.0)
    assert later["status"] == "ok" and later["crossing_at"] == 25  # known, but not soon
    assert later["changes"] == [{"status": "ok", "ts": 0, "value": 100}]


def test_judge_rules_takes_each_rule_where_it_belongs():
    context = {"rules": check_rules([{"kind": "data", "op": "above", "threshold": 5},
                                     {"kind": "forecast", "op": "above", "threshold": 5,
                                      "within": 10}]),
               "rule_states": {}}
    forecast = {"timestamps": [11, 12], "mean": [6.0, 7.0], "lower": [0, 0], "upper": [9, 9]}
    judged = judge_rules(context, [1, 2], [6.0, 7.0], 1.0, forecast)
    assert judged["data-above-5"]["status"] == "firing"
    assert judged["forecast-above-5"]["crossing_at"] == 11
    assert set(judge_rules(context, [1], [1.0], 1.0)) == {"data-above-5"}  # no forecast
    assert judge_rules({}, [1], [1.0], 1.0) == {}
    assert judge_rules({"rules": [{"kind": "bad"}]}, [1], [1.0], 1.0) == {}  # logged, skipped
