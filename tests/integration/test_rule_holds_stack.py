"""Held forecast rules end to end: a real hub and worker on the development SiriDB.

A series rising one unit a minute gets two forecast rules on the same condition, one with
holds (`for_seconds` and `keep_firing_for` of 10 minutes), one without. The first forecast
fires the plain rule and leaves the held one pending (no alert: no `changed_at`); the forecast
ten minutes of data later fires it. When the series drops, the plain rule resolves on the
first forecast that no longer crosses; the held one keeps firing until ten minutes of
forecasts have not crossed.
"""

from __future__ import annotations

import pytest

from tests.integration.test_rules_stack import NAME, START, STEP, insert, level, rule
from tests.support.stack import Stack
from tests.support.waiting import wait_for

PLAIN = {"kind": "forecast", "op": "above", "threshold": 220, "within": "1h", "id": "plain"}
HELD = {**PLAIN, "id": "held", "for_seconds": "10m", "keep_firing_for": 600}


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=1)
    try:
        yield stack.start()
    finally:
        stack.close()


def forecast_at(stack: Stack, first: int, last: int, value=level) -> None:
    """Points first..last (value(i) each), then a fit and its forecast from the last one."""
    insert(stack.db.port, [[START + i * STEP, value(i)] for i in range(first, last + 1)])
    stack.client.call("queue_job", name=NAME, job_type="fit")


def judged_at(stack: Stack, rule_id: str, index: int) -> dict:
    origin = START + index * STEP
    return wait_for(lambda: (r := rule(stack, rule_id)).get("last_ts") == origin and r, 60,
                    f"rule {rule_id} judged on the forecast from point {index}")


def test_a_held_forecast_rule_is_pending_then_fires_and_keeps_firing(stack):
    hub = stack.client
    hub.call("set_settings", settings={"min_data_points": 50, "fit_every": 1000, "horizon": 5,
                                       "reconcile_interval": 1.0})
    insert(stack.db.port, [[START + i * STEP, level(i)] for i in range(200)])
    hub.call("add_series", name=NAME, model="theta", rules=[PLAIN, HELD])

    plain = wait_for(lambda: (r := rule(stack, "plain")).get("status") == "firing" and r, 60,
                     "the plain rule to fire")
    held = judged_at(stack, "held", 199)
    assert plain["changed_at"] is not None  # alerted
    assert held["status"] == "pending" and held["changed_at"] is None  # shown, not alerted
    assert held["run_start"] == START + 199 * STEP and held["run_points"] == 1

    forecast_at(stack, 200, 209)  # still rising: ten minutes of forecasts that cross
    held = judged_at(stack, "held", 209)
    assert held["status"] == "firing" and held["since"] == START + 209 * STEP
    assert held["changed_at"] is not None

    forecast_at(stack, 210, 219, value=lambda i: 100.0)  # dropped: no longer crosses soon
    plain, held = judged_at(stack, "plain", 219), judged_at(stack, "held", 219)
    assert plain["status"] == "ok" and plain["since"] == START + 219 * STEP
    assert held["status"] == "firing" and held["clear_start"] == START + 219 * STEP

    forecast_at(stack, 220, 229, value=lambda i: 100.0)
    held = judged_at(stack, "held", 229)
    assert held["status"] == "ok" and held["since"] == START + 229 * STEP
    assert held["clear_start"] is None
