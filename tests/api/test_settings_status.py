"""/settings, /siridb/status, /enodo/*: reads, changes, and the hub being away."""

from __future__ import annotations

import pytest

from protocol.settings import defaults
from tests.api.checks import assert_error
from tests.support.hub_state import SaidSiriDB, worker

SETTINGS = defaults()


def _events(state, n: int) -> None:
    for i in range(n):
        state.event("test", f"event {i}")


def test_get_settings(client):
    result = client.simulate_get("/settings")
    assert result.status_code == 200
    assert result.json == SETTINGS


def test_change_settings_returns_all(client, hub):
    result = client.simulate_post("/settings", json={"horizon": 48, "fit_every": 5})
    assert result.status_code == 200
    assert result.json == {**SETTINGS, "horizon": 48, "fit_every": 5}
    assert hub.calls[-1] == ("set_settings", {"settings": {"horizon": 48, "fit_every": 5}})


@pytest.mark.parametrize(
    "changes",
    [{"horizon": "long"}, {"no_such_key": 1}, {"horizon": 48, "bogus": True}, {}],
)
def test_bad_settings_are_400_and_change_nothing(client, hub, changes):
    assert_error(client.simulate_post("/settings", json=changes), 400, "invalid")
    assert client.simulate_get("/settings").json == SETTINGS


def test_siridb_status(client, hub):
    assert client.simulate_get("/siridb/status").json["status"] == "not_configured"
    hub.state.siridb = SaidSiriDB()  # what the hub's SiriDB link says once connected
    result = client.simulate_get("/siridb/status")
    assert result.status_code == 200
    assert result.json["status"] == "connected"


def test_enodo_status(client, hub):
    result = client.simulate_get("/enodo/status")
    assert result.status_code == 200
    assert result.json["hub_id"] == hub.state.hub_id and result.json["protocol"] == 1


def test_clients(client, hub):
    worker(hub.state)
    result = client.simulate_get("/enodo/clients")
    assert result.status_code == 200
    assert result.json["clients"][0]["client_type"] == "worker"


def test_log_default_limit_is_the_hubs(client, hub):
    _events(hub.state, 200)
    result = client.simulate_get("/enodo/log")
    assert result.status_code == 200
    assert len(result.json["events"]) == 100
    assert hub.calls[-1] == ("event_log", None)


def test_log_with_limit(client, hub):
    _events(hub.state, 20)
    result = client.simulate_get("/enodo/log", params={"limit": "7"})
    assert len(result.json["events"]) == 7
    assert hub.calls[-1] == ("event_log", {"limit": 7})


@pytest.mark.parametrize("limit", ["0", "1001", "ten", "-3", "2.5"])
def test_log_with_bad_limit_is_400(client, hub, limit):
    result = client.simulate_get("/enodo/log", params={"limit": limit})
    message = assert_error(result, 400, "invalid")
    assert "limit" in message
    assert hub.calls == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/series", None),
        ("POST", "/series", {"name": "cpu"}),
        ("GET", "/series/cpu", None),
        ("DELETE", "/series/cpu", None),
        ("GET", "/series/cpu/forecast", None),
        ("GET", "/series/cpu/anomalies", None),
        ("POST", "/series/cpu/jobs", {"type": "fit"}),
        ("GET", "/settings", None),
        ("POST", "/settings", {"horizon": 2}),
        ("GET", "/siridb/status", None),
        ("GET", "/enodo/status", None),
        ("GET", "/enodo/log", None),
        ("GET", "/enodo/clients", None),
    ],
)
def test_hub_unavailable_is_503_on_every_route(client, hub, method, path, body):
    hub.unavailable = True
    result = client.simulate_request(method, path, json=body)
    message = assert_error(result, 503, "unavailable")
    assert "did not answer" in message
    assert result.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("not_found", 404),
        ("conflict", 409),
        ("unauthorized", 401),
        ("too_large", 413),
        ("unavailable", 503),
        ("internal", 500),
        ("invalid", 400),
        ("malformed", 400),
        ("unknown_client", 400),
        ("something_new", 400),
    ],
)
def test_every_hub_code_maps_to_its_status(client, hub, code, status):
    from api.hub_client import HubError

    def fail(params):
        raise HubError(code, f"the hub says {code}")

    hub.overrides["enodo_status"] = fail
    message = assert_error(client.simulate_get("/enodo/status"), status, code)
    assert message == f"the hub says {code}"


def test_unexpected_exception_is_500_in_the_shape(client, hub):
    def crash(params):
        raise RuntimeError("boom")

    hub.overrides["enodo_status"] = crash
    message = assert_error(client.simulate_get("/enodo/status"), 500, "internal")
    assert "boom" not in message


@pytest.mark.parametrize("path", ["/", "/nope", "/series/cpu/unknown", "/enodo", "/settings/x"])
def test_unknown_route_is_404_in_the_shape(client, path):
    assert_error(client.simulate_get(path), 404, "not_found")
