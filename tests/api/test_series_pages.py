"""GET /series a page at a time over the hub's real list_series: filters, cursor, limits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from protocol.actions import SERIES_PAGE, SERIES_PAGE_MAX
from tests.api.checks import assert_error


@pytest.fixture
def watched(state):
    for i in range(12):
        state.add_series(f"web{i:02d}.cpu", "arima" if i % 3 else "prophet", {}, False)
    for name in ("db1.cpu", "db1.mem"):
        state.add_series(name, "arima", {}, False)
    state.series.get("web03.cpu").jobs["forecast"]["state"] = "failed"
    state.series.get("db1.mem").jobs["train"]["state"] = "failed"
    return state


def names(result):
    return [s["name"] for s in result.json["series"]]


def test_without_parameters_the_first_page_in_name_order(client, watched):
    result = client.simulate_get("/series")
    assert result.status_code == 200
    assert names(result)[:3] == ["db1.cpu", "db1.mem", "web00.cpu"]
    assert result.json["total"] == 14 and result.json["next"] is None
    assert result.json["limit"] == SERIES_PAGE
    assert "link" not in result.headers


def test_pages_follow_the_cursor_to_the_end_without_gaps(client, watched):
    seen, after, pages = [], None, 0
    while True:
        query = {"limit": "5", **({"after": after} if after else {})}
        result = client.simulate_get("/series", params=query)
        assert result.json["total"] == 14
        seen += names(result)
        pages += 1
        after = result.json["next"]
        if after is None:
            break
        link = urlsplit(result.headers["link"].split(";")[0].strip("<>"))
        assert link.path == "/series" and parse_qs(link.query) == {"limit": ["5"], "after": [after]}
    assert pages == 3
    assert seen == sorted(watched.series.get(n).name for n in seen) and len(set(seen)) == 14


def test_a_series_added_between_pages_moves_no_other(client, watched):
    first = client.simulate_get("/series", params={"limit": "4"}).json
    watched.add_series("a.first", "arima", {}, False)  # sorts before the cursor
    second = client.simulate_get("/series", params={"limit": "4", "after": first["next"]})
    assert names(second)[0] == "web02.cpu" and second.json["total"] == 15


def test_glob_pattern(client, watched):
    result = client.simulate_get("/series", params={"pattern": "web0[0-4].*"})
    assert names(result) == [f"web0{i}.cpu" for i in range(5)]
    assert result.json["total"] == 5
    assert names(client.simulate_get("/series", params={"pattern": "*.mem"})) == ["db1.mem"]
    assert names(client.simulate_get("/series", params={"pattern": "db1.cpu"})) == ["db1.cpu"]
    assert client.simulate_get("/series", params={"pattern": "DB1*"}).json["total"] == 0


def test_state_model_and_job_filters(client, watched):
    failed = client.simulate_get("/series", params={"state": "failed"})
    assert names(failed) == ["db1.mem", "web03.cpu"]
    forecast_failed = client.simulate_get("/series", params={"state": "failed", "job": "forecast"})
    assert names(forecast_failed) == ["web03.cpu"]
    prophet = client.simulate_get("/series", params={"model": "prophet", "pattern": "web*"})
    assert names(prophet) == ["web00.cpu", "web03.cpu", "web06.cpu", "web09.cpu"]
    both = client.simulate_get("/series", params={"model": "prophet", "state": "failed",
                                                  "limit": "1"})
    assert names(both) == ["web03.cpu"] and both.json["next"] is None


@pytest.mark.parametrize("query", [
    {"limit": "0"}, {"limit": str(SERIES_PAGE_MAX + 1)}, {"limit": "many"},
    {"state": "asleep"}, {"job": "dance"},
])
def test_bad_parameters_are_400_and_change_nothing(client, watched, query):
    result = client.simulate_get("/series", params=query)
    assert_error(result, 400, "invalid")
    assert len(watched.series) == 14


def test_the_hub_refuses_a_bad_page_over_its_own_socket_too(hub, watched):
    from api.hub_client import HubError

    with pytest.raises(HubError) as caught:
        hub.request("list_series", {"limit": SERIES_PAGE_MAX + 1})
    assert caught.value.code == "invalid"
    assert hub.request("list_series", {"after": "web10.cpu"})["series"][0]["name"] == "web11.cpu"


def test_console_page_filters_by_state_and_model(hub, watched):
    page = hub.request("console_series", {"state": "failed", "model": "arima"})
    assert [row["name"] for row in page["series"]] == ["db1.mem"] and page["total"] == 1
    page = hub.request("console_series", {"filter": "WEB", "desc": True, "limit": 2,
                                          "offset": 1})
    assert [row["name"] for row in page["series"]] == ["web10.cpu", "web09.cpu"]
    assert page["total"] == 12
