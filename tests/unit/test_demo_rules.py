"""The demo's rules are valid, and its CPU forecast rule really fires on the demo's data: the
model `make run` trains on the CPU history forecasts its daily peak past 50 % within a day."""

from __future__ import annotations

from actors.worker.models.registry import get_model
from actors.worker.rules import judge_rules
from protocol.rules import check_rules
from scripts.demo_data import RULES, SENSOR_BY_NAME, SENSOR_HISTORY, STEP_MS, sensor_points

DAY_MS = 86_400_000


def test_the_demo_rules_are_accepted_by_the_hub_checks():
    for name, rules in RULES.items():
        assert name in SENSOR_BY_NAME
        assert [r["id"] for r in check_rules(rules)] == [r["id"] for r in rules]


def test_the_cpu_forecast_rule_fires_with_a_crossing_within_a_day():
    cpu = SENSOR_BY_NAME["demo.cpu"]
    points = sensor_points(cpu, 0, SENSOR_HISTORY)
    stamps, values = [int(t) for t, _ in points], [v for _, v in points]
    model = get_model(cpu.model)
    state = model.train(stamps, values, {"time_precision": "ms"})
    steps = DAY_MS // STEP_MS + 1  # what the hub asks for: the rule's day, in 10-minute steps
    forecast = model.forecast(state, steps, 0.95).to_json()
    judged = judge_rules({"rules": check_rules(RULES["demo.cpu"])}, [], [], 1e-3, forecast)
    busy = judged["cpu-busy"]
    assert busy["status"] == "firing"
    assert stamps[-1] < busy["crossing_at"] <= stamps[-1] + DAY_MS
    assert "cpu-hot" not in judged  # a data rule needs points, not a forecast
