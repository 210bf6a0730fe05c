"""Rules over REST: POST /series with rules and a horizon, PUT /series/{name}/rules, and what
GET /series/{name} shows (the hub's real actions over an in-memory state)."""

from __future__ import annotations

import pytest

from tests.api.checks import assert_error

HOT = {"kind": "data", "op": "above", "threshold": 90, "for_points": 3, "id": "hot"}
FULL = {"kind": "forecast", "op": "above", "threshold": 95, "within": "7d", "band": True}


def test_a_series_added_with_rules_and_a_horizon_shows_them(client):
    added = client.simulate_post("/series", json={"name": "disk", "rules": [HOT, FULL],
                                                  "horizon": "6h"})
    assert added.status_code == 201
    detail = client.simulate_get("/series/disk").json
    assert detail["horizon"] == "6h"
    assert detail["rules"] == [
        {**HOT, "threshold": 90.0, "severity": "warning", "for_seconds": 0.0,
         "keep_firing_for": 0.0},
        {**FULL, "threshold": 95.0, "id": "forecast-above-95", "severity": "warning",
         "for_seconds": 0.0, "keep_firing_for": 0.0},
    ]
    assert "rule_states" not in detail and "analysis" not in detail  # nothing judged yet


def test_a_series_without_rules_shows_no_rule_keys(client):
    assert client.simulate_post("/series", json={"name": "cpu"}).status_code == 201
    detail = client.simulate_get("/series/cpu").json
    assert not {"rules", "rule_states", "horizon", "analysis"} & set(detail)


@pytest.mark.parametrize(("body", "words"), [
    ({"rules": [{**HOT, "op": "sideways"}]}, "rules[0]: 'op' must be 'above' or 'below'"),
    ({"rules": [{**FULL, "within": "soon"}]}, "'within' must be a span"),
    ({"rules": [{**FULL, "for_seconds": -5}]}, "rules[0]: 'for_seconds' must be a span"),
    ({"rules": [{**HOT, "keep_firing_for": "2y"}]}, "rules[0]: 'keep_firing_for' must be a"),
    ({"rules": [HOT, HOT]}, "rules[1]: 'id' 'hot' is used twice"),
    ({"rules": "hot"}, "'rules' must be list"),
    ({"horizon": "forever"}, "horizon: must be a span"),
    ({"horizon": 0}, "horizon: must be steps (1 to 10000)"),
])
def test_bad_rules_or_horizon_are_a_400_and_add_nothing(client, body, words):
    result = client.simulate_post("/series", json={"name": "cpu", **body})
    assert words in assert_error(result, 400, "invalid")
    assert client.simulate_get("/series").json["series"] == []


def test_put_rules_replaces_them_all_or_nothing(client, hub):
    client.simulate_post("/series", json={"name": "disk", "rules": [HOT]})
    result = client.simulate_put("/series/disk/rules", json={"rules": [FULL]})
    assert result.status_code == 200
    assert result.json["name"] == "disk"
    assert [r["id"] for r in result.json["rules"]] == ["forecast-above-95"]
    assert hub.calls[-1][0] == "set_rules"
    bad = client.simulate_put("/series/disk/rules", json={"rules": [{**HOT, "threshold": "x"}]})
    assert bad.status_code == 400
    assert [r["id"] for r in client.simulate_get("/series/disk").json["rules"]] == [
        "forecast-above-95"]
    cleared = client.simulate_put("/series/disk/rules", json={"rules": []})
    assert cleared.json["rules"] == [] and "rules" not in client.simulate_get(
        "/series/disk").json


def test_put_rules_of_an_unknown_series_is_a_404(client):
    message = assert_error(client.simulate_put("/series/nope/rules", json={"rules": []}), 404,
                           "not_found")
    assert "not found" in message


def test_put_rules_needs_a_rules_list(client):
    client.simulate_post("/series", json={"name": "disk"})
    missing = assert_error(client.simulate_put("/series/disk/rules", json={}), 400, "invalid")
    assert "missing key 'rules'" in missing
    extra = assert_error(client.simulate_put("/series/disk/rules", json={"rules": [HOT], "x": 1}),
                         400, "invalid")
    assert "unexpected key 'x'" in extra
