"""GET /series/{name}/accuracy over a fake hub."""

from __future__ import annotations

from tests.api.checks import assert_error


def test_accuracy_of_a_series(client, hub):
    client.simulate_post("/series", json={"name": "cpu/load"})
    result = client.simulate_get("/series/cpu%2Fload/accuracy")
    assert result.status_code == 200
    assert hub.calls[-1] == ("get_accuracy", {"name": "cpu/load"})
    body = result.json
    assert body["model"] == {"name": "auto:ets", "mase": 0.61, "smape": 4.2, "coverage": 0.93}
    assert body["baseline"]["name"] == "seasonal_naive"
    assert body["horizon"] == 24 and body["origins"] == 3


def test_accuracy_of_an_unknown_series_is_404(client):
    result = client.simulate_get("/series/nope/accuracy")
    assert_error(result, 404, "not_found")


def test_accuracy_is_read_only(client):
    client.simulate_post("/series", json={"name": "cpu"})
    assert client.simulate_post("/series/cpu/accuracy", json={}).status_code == 405
