"""Series names of any characters round-trip through URLs as one percent-encoded segment."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.routing import encode_name, raw_path
from tests.api.checks import assert_error
from tests.support.hub_state import add_series

NAMES = [
    "a/b",
    "a/b/forecast",
    "cpu/forecast",
    "/leading",
    "trailing/",
    "//",
    'say "hi"',
    "it's",
    "with space",
    "100%",
    "%2F",
    "%",
    "a+b",
    "back\\slash",
    "?q=1&x#frag",
    "semi;colon,comma",
    "tab\tnew\nline",
    "ünïcødé/名前",
    "emoji 🚀",
    "..",
    ".",
    "série.température (°C)",
]


@pytest.mark.parametrize("name", NAMES)
def test_name_round_trips(client, hub, name):
    created = client.simulate_post("/series", json={"name": name})
    assert created.status_code == 201
    location = created.headers["location"]
    assert location == "/series/" + encode_name(name)
    assert client.simulate_get(location).json["name"] == name
    assert client.simulate_get(location + "/forecast").json["name"] == name
    assert client.simulate_get(location + "/anomalies").json["name"] == name
    jobs = client.simulate_post(location + "/jobs", json={"type": "train"})
    assert jobs.status_code == 202
    assert jobs.json["jobs"]["train"]["state"] == "queued"
    assert client.simulate_delete(location).json == {"name": name}
    assert len(hub.state.series) == 0


def test_encoded_slash_is_not_a_path_separator(client, hub):
    client.simulate_post("/series", json={"name": "a/b"})
    assert client.simulate_get("/series/a%2Fb").json["name"] == "a/b"
    assert client.simulate_get("/series/a%2fb").json["name"] == "a/b"
    assert_error(client.simulate_get("/series/a/b"), 404, "not_found")


def test_name_ending_in_forecast_is_not_the_forecast_route(client, hub):
    client.simulate_post("/series", json={"name": "cpu/forecast"})
    client.simulate_post("/series", json={"name": "cpu"})
    assert client.simulate_get("/series/cpu%2Fforecast").json["name"] == "cpu/forecast"
    assert "points" in client.simulate_get("/series/cpu/forecast").json
    assert hub.calls[-1] == ("get_forecast", {"name": "cpu"})


def test_raw_utf8_in_the_path_is_accepted(client, hub):
    client.simulate_post("/series", json={"name": "名前"})
    assert client.simulate_get("/series/名前").json["name"] == "名前"


def test_bad_percent_encoding_is_400(client, hub):
    message = assert_error(client.simulate_get("/series/%FF%FE"), 400, "invalid")
    assert "UTF-8" in message
    assert hub.calls == []


def test_trailing_slash_is_ignored(client):
    assert client.simulate_get("/series/").status_code == 200


# Any text a name can be: no NUL, and no lone surrogates (they have no UTF-8 form).
NAME_TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=40
)


@given(NAME_TEXT)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_name_round_trips(client, hub, name):
    if hub.state.series.get(name) is None:
        add_series(hub.state, name)
    assert client.simulate_get("/series/" + encode_name(name)).json["name"] == name


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"RAW_URI": "/series/a%2Fb?x=1", "PATH_INFO": "/series/a/b"}, "/series/a%2Fb"),
        ({"REQUEST_URI": "/series/a%2Fb", "PATH_INFO": "/series/a/b"}, "/series/a%2Fb"),
        ({"RAW_URI": "http://h:8000/series/a%2Fb?q", "PATH_INFO": "/x"}, "/series/a%2Fb"),
        ({"PATH_INFO": "/series/100%"}, "/series/100%25"),
        ({"RAW_URI": "/api/series/x", "SCRIPT_NAME": "/api", "PATH_INFO": "/series/x"},
         "/series/x"),
        # gunicorn tunnels raw UTF-8 bytes of the request line through latin-1
        ({"RAW_URI": "/series/名".encode().decode("latin-1"), "PATH_INFO": "/x"}, "/series/名"),
    ],
)
def test_raw_path_from_environ(environ, expected):
    assert raw_path(environ) == expected


def test_without_raw_uri_path_info_is_used(client, hub):
    add_series(hub.state, "a b")
    result = client.simulate_get("/series/a%20b", extras={"RAW_URI": ""})
    assert result.json["name"] == "a b"


def test_encode_name_is_one_segment():
    assert encode_name("a/b c%") == "a%2Fb%20c%25"
    assert "/" not in encode_name("/".join(NAMES))
    assert quote("é", safe="") == encode_name("é")
