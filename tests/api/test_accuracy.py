"""GET /series/{name}/accuracy over the hub's own actions."""

from __future__ import annotations

from tests.api.checks import assert_error

REPORT = {"horizon": 24, "origins": 3, "level": 0.95, "period": 24,
          "model": {"name": "auto:ets", "mase": 0.61, "smape": 4.2, "coverage": 0.93},
          "baseline": {"name": "seasonal_naive", "mase": 1.0, "smape": 6.9, "coverage": 0.97}}


def test_accuracy_before_any_training_is_null(client):
    client.simulate_post("/series", json={"name": "cpu"})
    body = client.simulate_get("/series/cpu/accuracy").json
    assert body == {"name": "cpu", "measured_at": None, "model": None, "baseline": None}


def test_accuracy_of_a_series(client, hub):
    client.simulate_post("/series", json={"name": "cpu/load"})
    # What the hub keeps from a training result (actors/hub/results.py).
    hub.state.store.put_output("cpu/load", "accuracy", {**REPORT, "measured_at": 1.7e9})
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
