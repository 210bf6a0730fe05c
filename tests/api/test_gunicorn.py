"""The API under real gunicorn, its hub an in-test ROUTER stub: routing, encoding, 503."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from tests.api.gunicorn_proc import Gunicorn
from tests.api.stub_hub import StubHub, api_handler, series_actions, series_detail

HUB_TIMEOUT = 1.0
SLACK = 2.0


@pytest.fixture(scope="module")
def series():
    return {"cpu": series_detail("cpu"), "a/b": series_detail("a/b")}


@pytest.fixture(scope="module")
def stub(series):
    with StubHub(api_handler(series_actions(series))) as hub:
        yield hub


@pytest.fixture(scope="module")
def api(stub):
    env = {"ENODO_API_HUB_ADDRESS": stub.endpoint, "ENODO_API_TIMEOUT": str(HUB_TIMEOUT)}
    with Gunicorn("api.wsgi:app", env=env, workers=2) as server:
        yield server


@pytest.fixture(autouse=True)
def hub_answers(stub):
    stub.answering.set()
    yield
    stub.answering.set()


def test_get_series(api):
    status, headers, body = api.request("GET", "/series/cpu")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert body["name"] == "cpu"


def test_encoded_slash_round_trip(api):
    status, _, body = api.request("GET", "/series/a%2Fb")
    assert (status, body["name"]) == (200, "a/b")
    status, _, body = api.request("GET", "/series/a/b")
    assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize("name", ["x/forecast", 'q"uote s%', "ünï/名前 🚀"])
def test_added_name_round_trips_through_location(api, name):
    status, headers, body = api.request("POST", "/series", {"name": name})
    assert status == 201, body
    assert headers["location"] == "/series/" + quote(name, safe="")
    status, _, body = api.request("GET", headers["location"])
    assert (status, body["name"]) == (200, name)
    status, _, body = api.request("DELETE", headers["location"])
    assert (status, body) == (200, {"name": name})


def test_bad_body_is_400(api, stub):
    before = len(stub.received)
    status, _, body = api.request("POST", "/series", {"name": 5})
    assert status == 400 and body["error"]["code"] == "invalid"
    assert len(stub.received) == before


def test_silent_hub_is_503_within_the_timeout_then_recovers(api, stub):
    stub.answering.clear()
    started = time.monotonic()
    status, headers, body = api.request("GET", "/series/cpu")
    elapsed = time.monotonic() - started
    assert status == 503
    assert body["error"]["code"] == "unavailable"
    assert headers["retry-after"] == "1"
    assert elapsed < HUB_TIMEOUT + SLACK
    stub.answering.set()
    # Both workers may hold a reset socket; each must answer again on its own.
    for _ in range(4):
        status, _, body = api.request("GET", "/series/cpu")
        assert (status, body["name"]) == (200, "cpu")
