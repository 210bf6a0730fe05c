"""End to end: REST through real gunicorn to a real hub; enodo-client sees the same state.

The hub is stopped (SIGTERM) and killed (SIGKILL) and started again: acknowledged series
and settings are still there, the API answers 503 meanwhile and recovers by itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from api.routing import series_path
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess
from tests.support.waiting import wait_for

NAME = "rack 1/cpu 'load' \"x\" ü%"
API_TIMEOUT = 1.5


@pytest.fixture
def stack(tmp_path):
    hub = HubProcess(tmp_path).start()
    api = Gunicorn("api.wsgi:app", env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_TIMEOUT": str(API_TIMEOUT),
    }).start()
    yield hub, api
    api.stop()
    hub.stop(signal.SIGKILL)


def client(hub, *args):
    done = subprocess.run(
        [sys.executable, "-m", "scripts.client", "--hub", hub.address("control"),
         "--token", hub.token, "--client-id", "e2e-client", "--timeout", "5", "--json", *args],
        capture_output=True, text=True, timeout=30,
    )
    return done.returncode, done.stdout, done.stderr


def test_series_lifecycle_over_rest_and_the_client(stack):
    hub, api = stack
    status, headers, body = api.request("POST", "/series", {"name": NAME, "model": "arima"})
    assert status == 201 and body["name"] == NAME
    assert api.request("POST", "/series", {"name": NAME})[0] == 409
    assert api.request("POST", "/series", {"name": "x", "model": "nope"})[0] == 400
    status, _, listed = api.request("GET", "/series")
    assert status == 200 and [s["name"] for s in listed["series"]] == [NAME]
    status, _, detail = api.request("GET", series_path(NAME))
    assert status == 200 and detail["model"] == "arima"

    code, out, err = client(hub, "list")
    assert code == 0, err
    assert [s["name"] for s in json.loads(out)["series"]] == [NAME]
    code, out, _ = client(hub, "show", NAME)
    assert code == 0 and json.loads(out)["name"] == NAME
    code, _, err = client(hub, "add", "from-the-client", "--model", "prophet")
    assert code == 0, err
    assert api.request("GET", series_path("from-the-client"))[2]["model"] == "prophet"

    assert api.request("DELETE", series_path(NAME))[0] == 200
    assert api.request("GET", series_path(NAME))[0] == 404
    code, _, err = client(hub, "show", NAME)
    assert code == 1 and "not_found" in err


def test_settings_round_trip_and_bad_settings_change_nothing(stack):
    _, api = stack
    status, _, settings = api.request("POST", "/settings", {"horizon": 12, "fit_every": 7})
    assert status == 200 and (settings["horizon"], settings["fit_every"]) == (12, 7)
    for bad in ({"horizon": "12"}, {"horizon": 13, "no_such_key": 1}, {"horizon": -1}):
        status, _, body = api.request("POST", "/settings", bad)
        assert status == 400 and body["error"]["code"] == "invalid"
    assert api.request("GET", "/settings")[2]["horizon"] == 12


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_hub_restart_keeps_state_and_the_api_recovers(stack, sig):
    hub, api = stack
    assert api.request("POST", "/series", {"name": NAME, "model": 2})[0] == 201
    assert api.request("POST", "/settings", {"horizon": 9})[0] == 200
    hub.stop(sig)

    started = time.monotonic()
    status, headers, body = api.request("GET", "/series")
    waited = time.monotonic() - started
    assert status == 503 and body["error"]["code"] == "unavailable"
    assert waited < API_TIMEOUT + 2.0

    hub.start()
    wait_for(lambda: api.request("GET", "/series")[0] == 200, 15, "the API to recover")
    assert [s["name"] for s in api.request("GET", "/series")[2]["series"]] == [NAME]
    assert api.request("GET", series_path(NAME))[2]["model"] == "prophet"
    assert api.request("GET", "/settings")[2]["horizon"] == 9
