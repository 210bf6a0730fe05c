"""The REST API's bearer token: 401 in the one error shape, open paths, token not ready."""

from __future__ import annotations

import pytest
from falcon import testing

from api.app import create_app
from api.auth import OPEN_PATHS
from api.config import bearer_from_config, load_api_config
from tests.api.checks import assert_error
from tests.api.state_hub import StateHub

TOKEN = "rest-token-0123456789"


@pytest.fixture
def secured(hub: StateHub) -> testing.TestClient:
    return testing.TestClient(create_app(hub, bearer=lambda: TOKEN))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwdw=="},
                                     {"Authorization": "Bearer"}, {"Authorization": "Bearer  "}])
def test_missing_token_is_401_with_a_challenge(secured, hub, headers):
    result = secured.simulate_get("/series", headers=headers)
    assert "token" in assert_error(result, 401, "unauthorized")
    assert result.headers["www-authenticate"] == 'Bearer realm="enodo"'
    assert hub.calls == []


def test_wrong_token_is_401_and_reaches_no_hub(secured, hub):
    result = secured.simulate_post("/series", json={"name": "cpu"}, headers=auth(TOKEN + "x"))
    assert_error(result, 401, "unauthorized")
    assert result.headers["www-authenticate"] == 'Bearer realm="enodo", error="invalid_token"'
    assert TOKEN not in result.text
    assert hub.calls == [] and len(hub.state.series) == 0


def test_unknown_paths_need_the_token_too(secured):
    assert_error(secured.simulate_get("/nope"), 401, "unauthorized")
    assert_error(secured.simulate_get("/nope", headers=auth(TOKEN)), 404, "not_found")


def test_right_token_passes(secured, hub):
    assert secured.simulate_post("/series", json={"name": "a/b"}, headers=auth(TOKEN)).status_code \
        == 201
    result = secured.simulate_get("/series/a%2Fb", headers={"Authorization": f"bearer {TOKEN}"})
    assert result.status_code == 200 and result.json["name"] == "a/b"


def test_open_paths_need_no_token(secured):
    assert OPEN_PATHS == {"/openapi.json", "/health", "/ready"}
    for path in OPEN_PATHS:
        # Served without a token (/ready may be 503: the fake hub has no SiriDB), never 401.
        assert secured.simulate_get(path).status_code != 401


def test_token_not_available_refuses_everything(hub):
    client = testing.TestClient(create_app(hub, bearer=lambda: ""))
    result = client.simulate_get("/series", headers=auth(""))
    assert_error(result, 503, "unavailable")
    assert hub.calls == []


def test_without_a_bearer_token_rest_is_open(client):
    assert client.simulate_get("/series").status_code == 200


def test_bearer_config(tmp_path):
    assert bearer_from_config(load_api_config(env={})) is None
    source = bearer_from_config(load_api_config(env={"ENODO_API_BEARER_TOKEN": TOKEN}))
    assert source is not None and source() == TOKEN
    path = tmp_path / "bearer"
    source = bearer_from_config(load_api_config(env={"ENODO_API_BEARER_TOKEN_FILE": str(path)}))
    assert source is not None and source() == ""
    path.write_text(TOKEN + "\n")
    assert source() == TOKEN


READER = "read-only-token-987"


@pytest.fixture
def with_reader(hub: StateHub) -> testing.TestClient:
    return testing.TestClient(create_app(hub, bearer=lambda: TOKEN, read_bearer=lambda: READER))


def test_read_only_token_may_read_but_change_nothing(with_reader, hub):
    assert with_reader.simulate_post("/series", json={"name": "a"}, headers=auth(TOKEN)) \
        .status_code == 201
    assert with_reader.simulate_get("/series", headers=auth(READER)).status_code == 200
    assert with_reader.simulate_get("/series/a/forecast", headers=auth(READER)).status_code == 200
    calls = list(hub.calls)
    for method, path, body in (("POST", "/series", {"name": "b"}), ("DELETE", "/series/a", None),
                               ("POST", "/settings", {"horizon": 5}),
                               ("POST", "/series/a/jobs", {"type": "train"})):
        result = with_reader.simulate_request(method, path, json=body, headers=auth(READER))
        assert "only read" in assert_error(result, 403, "forbidden")
    assert hub.calls == calls and [s.name for s in hub.state.series] == ["a"]
    assert_error(with_reader.simulate_get("/series", headers=auth(READER + "x")), 401,
                 "unauthorized")


def test_read_only_token_without_a_full_token_is_a_config_error():
    from actors.common.config import ConfigError
    from api.config import read_bearer_from_config

    config = load_api_config({"ENODO_API_READ_TOKEN": READER})
    with pytest.raises(ConfigError, match="api.read_token"):
        read_bearer_from_config(config)
    both = load_api_config({"ENODO_API_READ_TOKEN": READER, "ENODO_API_BEARER_TOKEN": TOKEN})
    assert read_bearer_from_config(both)() == READER
