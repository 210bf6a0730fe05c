"""Rules and base analysis end to end: a real hub and worker on the development SiriDB.

A series rising one unit a minute is trained (its analysis finds the 60 s interval and the
trend), its forecast rule reports when the forecast crosses the threshold, a data rule
fires on points above its threshold and resolves when they come back, and the series goes
stale when its points stop and fresh when they come again.
"""

from __future__ import annotations

import asyncio

import pytest
from siridb.connector import SiriDBClient

from tests.support.stack import DATABASE, Stack
from tests.support.waiting import wait_for

NAME = "disk.used"
STEP = 60_000  # ms
START = 1_700_000_000_000
RULES = [
    {"kind": "data", "op": "above", "threshold": 500, "for_points": 3, "id": "high"},
    {"kind": "forecast", "op": "above", "threshold": 220, "within": "1h", "id": "full"},
]


def level(i: int) -> float:
    return 10.0 + i + (0.5 if i % 2 else -0.5)  # a steady rise of one unit a minute


def insert(port: int, points: list[list]) -> None:
    async def run() -> None:
        client = SiriDBClient("iris", "siri", DATABASE, [("127.0.0.1", port)], keepalive=True)
        await client.connect()
        try:
            await client.insert({NAME: points})
        finally:
            client.close()

    asyncio.run(run())


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=1, hub_env={
        "ENODO_HUB_STALE_FACTOR": "0.05", "ENODO_HUB_STALE_MIN_SECONDS": "2"})
    try:
        yield stack.start()
    finally:
        stack.close()


def rule(stack: Stack, rule_id: str) -> dict:
    return stack.client.series(NAME).get("rule_states", {}).get(rule_id, {})


def test_rules_fire_and_resolve_and_the_analysis_sets_the_horizon(stack):
    hub = stack.client
    hub.call("set_settings", settings={"min_data_points": 50, "fit_every": 1000, "horizon": 5,
                                       "reconcile_interval": 1.0})
    insert(stack.db.port, [[START + i * STEP, level(i)] for i in range(200)])  # last ~209.5
    hub.call("add_series", name=NAME, model="theta", rules=RULES)

    detail = wait_for(lambda: (d := hub.series(NAME)).get("analysis") and d, 60,
                      "the training's analysis")
    analysis = detail["analysis"]
    assert analysis["interval"] == 60.0 and analysis["regularity"] == 1.0
    assert analysis["trend"]["direction"] == "up"
    assert analysis["trend"]["slope"] == pytest.approx(1 / 60, rel=0.05)

    full = wait_for(lambda: (r := rule(stack, "full")).get("status") == "firing" and r, 60,
                    "the forecast rule to fire")
    last = START + 199 * STEP
    # Rising ~1 a minute from ~209.5: 220 is crossed 5 to 30 minutes after the last point.
    assert last + 5 * STEP <= full["crossing_at"] <= last + 30 * STEP
    assert full["last_ts"] == last and full["changed_at"] is not None
    forecast = hub.call("get_forecast", name=NAME)
    assert forecast["total"] == 61  # the horizon setting (5) stretched to reach 1 h
    assert rule(stack, "high")["status"] == "ok"

    # Three points above 500: the data rule fires on the next job's read.
    insert(stack.db.port, [[START + i * STEP, 600.0] for i in range(200, 203)])
    hub.call("queue_job", name=NAME, job_type="fit")
    high = wait_for(lambda: (r := rule(stack, "high")).get("status") == "firing" and r, 60,
                    "the data rule to fire")
    assert high["since"] == START + 202 * STEP and high["value"] == 600.0
    assert high["run_start"] == START + 200 * STEP and high["run_points"] == 3

    insert(stack.db.port, [[START + 203 * STEP, 212.0]])
    hub.call("queue_job", name=NAME, job_type="fit")
    ok = wait_for(lambda: (r := rule(stack, "high")).get("status") == "ok" and r, 60,
                  "the data rule to resolve")
    assert ok["since"] == START + 203 * STEP and ok["run_points"] == 0

    # No new point for 3 s (0.05 x 60 s): stale; a point again: fresh.
    wait_for(lambda: rule(stack, "stale").get("status") == "firing", 30, "the series to go stale")
    insert(stack.db.port, [[START + 204 * STEP, 213.0]])
    wait_for(lambda: rule(stack, "stale").get("status") == "ok", 30, "the series to be fresh")
    kinds = [e["kind"] for e in hub.call("event_log", limit=50)["events"]]
    assert "series_stale" in kinds and "series_fresh" in kinds
