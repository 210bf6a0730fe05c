"""Holds on rules (protocol/rules.py, actors/worker/rules.py): `for_seconds` before a forecast
rule fires and `keep_firing_for` before any rule resolves, in data time, so a forecast
hovering around the threshold neither pages nor resolves on one forecast."""

from __future__ import annotations

import pytest

from actors.worker.rules import judge_data, judge_forecast
from protocol.errors import ProtocolError
from protocol.rules import check_rules, parse_rules

STEP = 20  # seconds between forecast origins (a forecast job every 20 points of 1 s)
# Whether each forecast crosses 95 within 30 s: hovering, held, hovering, then clear.
HOVER = [True, False, True, False, True, True, True, True, False, True, False, True, False,
         False, False, False, True, False]


def fc_rule(**kw):
    return parse_rules([{"kind": "forecast", "op": "above", "threshold": 95, "within": 30,
                         "id": "full", **kw}])[0]


def forecast(origin: int, soon: bool) -> dict:
    """A forecast from origin that crosses 95 ten seconds on (soon) or stays below it."""
    stamps = [origin + 10 * k for k in range(1, 6)]
    mean = [90.0, 100.0, 100.0, 100.0, 100.0] if soon else [90.0] * 5
    return {"timestamps": stamps, "mean": mean, "lower": [None] * 5, "upper": [None] * 5}


def run(rule, soon: list[bool], unit: float = 1.0, step: int = STEP
        ) -> tuple[list[dict], list[dict]]:
    """Judge each forecast in turn (origins step ticks apart), the state carried from one job
    to the next as the hub does: (every state, every change reported)."""
    state, states, changes = None, [], []
    for k, flag in enumerate(soon):
        state = judge_forecast(rule, state, forecast(k * step, flag), unit)
        states.append(state)
        changes += state["changes"]
    return states, changes


def test_without_holds_a_hovering_forecast_flaps_as_before():
    _, changes = run(fc_rule(), HOVER)
    statuses = [c["status"] for c in changes]
    assert len(statuses) == 12 and statuses[:4] == ["firing", "ok", "firing", "ok"]


def test_with_holds_a_hovering_forecast_fires_once_and_resolves_once():
    states, changes = run(fc_rule(for_seconds=60, keep_firing_for="1m"), HOVER)
    # Fires at the fourth forecast in a row that crosses (origins 80 to 140: held 60 s);
    # the single clear forecasts while firing do not resolve it; four clear ones in a row
    # (origins 240 to 300: clear 60 s) do.
    assert [(c["status"], c["ts"]) for c in changes] == [("firing", 140), ("ok", 300)]
    assert [s["status"] for s in states] == [
        "pending", "ok", "pending", "ok", "pending", "pending", "pending", "firing",
        "firing", "firing", "firing", "firing", "firing", "firing", "firing", "ok", "pending",
        "ok"]
    held = states[6]
    assert held["run_start"] == 80 and held["run_points"] == 3 and held["since"] == 80
    keeping = states[14]
    assert keeping["clear_start"] == 240 and keeping["since"] == 140
    assert "clear_start" not in states[15]  # only sent while set


def test_the_holds_count_data_time_in_the_series_precision():
    # Origins 20 000 ms apart: a 60 s hold is four forecasts, as with seconds ...
    states, _ = run(fc_rule(for_seconds="1m"), [True] * 4, unit=0.001, step=20_000)
    assert [s["status"] for s in states] == ["pending", "pending", "pending", "firing"]
    # ... and origins 20 ms apart hold 60 ms, not 60 s.
    states, _ = run(fc_rule(for_seconds="1m"), [True] * 4, unit=0.001)
    assert [s["status"] for s in states] == ["pending"] * 4


def test_pending_that_clears_is_no_alert():
    states, changes = run(fc_rule(for_seconds=100), [True, True, False])
    assert [s["status"] for s in states] == ["pending", "pending", "ok"]
    assert changes == []


def test_a_data_rule_keeps_firing_until_back_long_enough():
    ts = list(range(1, 9))
    values = [96.0, 80.0, 96.0, 80.0, 80.0, 80.0, 80.0, 80.0]
    rule = parse_rules([{"kind": "data", "op": "above", "threshold": 90, "id": "hot"}])[0]
    flapping = judge_data(rule, {"last_ts": 0}, ts, values, 1.0)
    assert [c["status"] for c in flapping["changes"]] == ["firing", "ok", "firing", "ok"]
    held = parse_rules([{"kind": "data", "op": "above", "threshold": 90, "id": "hot",
                         "keep_firing_for": 3}])[0]
    first = judge_data(held, {"last_ts": 0}, ts[:5], values[:5], 1.0)
    assert first["status"] == "firing" and first["clear_start"] == 4
    rest = judge_data(held, first, ts, values, 1.0)  # the next job: points 6..8
    assert [(c["status"], c["ts"]) for c in first["changes"] + rest["changes"]] == [
        ("firing", 1), ("ok", 7)]


def test_holds_default_to_none_and_are_served_whole():
    stored = check_rules([{"kind": "forecast", "op": "above", "threshold": 1, "within": "1d",
                           "for_seconds": "15m", "keep_firing_for": 3600}])
    assert stored[0]["for_seconds"] == "15m" and stored[0]["keep_firing_for"] == 3600
    old = check_rules([{"kind": "forecast", "op": "above", "threshold": 1, "within": "1d"}])
    assert old[0]["for_seconds"] == 0.0 and old[0]["keep_firing_for"] == 0.0


@pytest.mark.parametrize(("rule", "words"), [
    ({"keep_firing_for": "5y"}, r"rules\[0\]: 'keep_firing_for' must be a span"),
    ({"keep_firing_for": -1}, "'keep_firing_for' must be a span"),
    ({"for_seconds": "0s"}, "'for_seconds' must be a span"),
    ({"for_seconds": True}, "'for_seconds' must be a span"),
    ({"keep_firing_for": None}, "'keep_firing_for' must be a span"),
])
def test_bad_holds_are_refused_naming_the_key(rule, words):
    for kind in ({"kind": "forecast", "within": "1h"}, {"kind": "data"}):
        with pytest.raises(ProtocolError, match=words):
            check_rules([{"op": "above", "threshold": 1, **kind, **rule}])
