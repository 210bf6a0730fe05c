"""REST: /health and /ready, ?limit on anomalies, names too long to serve in a URL."""

from __future__ import annotations

import pytest
from falcon import testing

from actors.hub.detection import record_detection
from api.app import create_app
from api.openapi import openapi_document
from api.server_edges import MAX_ENCODED_NAME
from tests.api.checks import assert_error
from tests.api.state_hub import StateHub
from tests.support.hub_state import SaidSiriDB, make_state

TOKEN = "t0ken"


@pytest.fixture
def secured(hub: StateHub) -> testing.TestClient:
    return testing.TestClient(create_app(hub, bearer=lambda: TOKEN))


def test_health_answers_without_token_or_hub(secured, hub):
    hub.unavailable = True
    result = secured.simulate_get("/health")
    assert (result.status_code, result.json) == (200, {"status": "ok"})
    assert hub.calls == []


def test_ready_when_hub_answers_and_siridb_connected(secured, hub):
    hub.state.siridb = SaidSiriDB()  # what the hub's SiriDB link says once connected
    result = secured.simulate_get("/ready")
    assert result.status_code == 200
    assert result.json == {"status": "ready", "hub": "ok", "siridb": "connected"}


def test_not_ready_while_the_hub_is_away(secured, hub):
    hub.unavailable = True
    message = assert_error(secured.simulate_get("/ready"), 503, "unavailable")
    assert "the hub does not answer" in message


def test_not_ready_while_siridb_is_failing(secured, hub):
    hub.overrides["siridb_status"] = lambda params: {"status": "failing",
                                                     "error": "connection refused"}
    message = assert_error(secured.simulate_get("/ready"), 503, "unavailable")
    assert "SiriDB is not connected (connection refused)" in message


def test_anomalies_limit_keeps_the_newest(tmp_path):
    state = make_state(tmp_path)
    client = testing.TestClient(create_app(StateHub(state)))
    client.simulate_post("/series", json={"name": "cpu"})
    points = [{"timestamp": ts, "value": 30.0, "expected": 10.0, "lower": 8.0, "upper": 12.0,
               "score": 10.0, "point_score": 10.0, "mean_score": 0.0} for ts in range(1, 6)]
    record_detection(state, state.series.get("cpu"), {"anomalies": points, "events": []})
    every = client.simulate_get("/series/cpu/anomalies").json["anomalies"]
    assert [a["timestamp"] for a in every] == [1, 2, 3, 4, 5]
    newest = client.simulate_get("/series/cpu/anomalies", params={"limit": 2}).json["anomalies"]
    assert [a["timestamp"] for a in newest] == [4, 5]
    for bad in ("0", "1001", "x"):
        result = client.simulate_get("/series/cpu/anomalies", params={"limit": bad})
        assert_error(result, 400, "invalid")


def test_anomalies_limit_is_in_openapi(client):
    operation = openapi_document(client.app)["paths"]["/series/{name}/anomalies"]["get"]
    assert any(p["name"] == "limit" and p["in"] == "query" for p in operation["parameters"])


def test_name_too_long_for_a_url_is_refused_at_add(client, hub):
    fits = "x" * MAX_ENCODED_NAME
    assert client.simulate_post("/series", json={"name": fits}).status_code == 201
    too_long = "é" * (MAX_ENCODED_NAME // 6 + 1)  # 6 bytes each, percent-encoded
    message = assert_error(client.simulate_post("/series", json={"name": too_long}), 400,
                           "invalid")
    assert f"at most {MAX_ENCODED_NAME}" in message
    assert hub.state.series.get(too_long) is None
