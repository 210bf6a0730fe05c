"""REST: anomaly settings on POST /series and GET /series/{name}/anomalies, over the hub's own
actions (a real HubState behind the client interface: no sockets)."""

from __future__ import annotations

import pytest

from actors.hub.detection import record_detection
from tests.api.checks import assert_error


def test_post_series_with_anomaly_settings(client, state):
    result = client.simulate_post("/series", json={
        "name": "cpu", "anomaly": {"direction": "above", "min_deviation": 5, "k": 2, "n": 4,
                                   "sensitivity": 1e-5}})
    assert result.status_code == 201, result.text
    assert result.json["anomaly"] == {"direction": "above", "min_deviation": 5.0, "k": 2,
                                      "n": 4, "event_gap": 100, "sensitivity": 1e-5,
                                      "views": None, "combine": None}
    assert client.simulate_get("/series/cpu").json["anomaly"]["k"] == 2


@pytest.mark.parametrize(
    ("anomaly", "needle"),
    [
        ({"direction": "up"}, "anomaly: direction must be one of both, above, below"),
        ({"k": 5, "n": 2}, "anomaly: k must not exceed n"),
        ({"persistence": 3}, "anomaly: unknown key 'persistence'"),
        ({"sensitivity": 2}, "anomaly: sensitivity must be a probability"),
    ],
)
def test_bad_anomaly_settings_are_400_and_add_nothing(client, anomaly, needle):
    result = client.simulate_post("/series", json={"name": "cpu", "anomaly": anomaly})
    assert needle in assert_error(result, 400, "invalid")
    assert client.simulate_get("/series").json["series"] == []


def test_anomaly_that_is_not_an_object_is_refused_before_the_hub(client):
    result = client.simulate_post("/series", json={"name": "cpu", "anomaly": "above"})
    assert "anomaly" in assert_error(result, 400, "invalid")


def test_get_anomalies_serves_points_and_events(client, state):
    client.simulate_post("/series", json={"name": "a/b"})
    series = state.series.get("a/b")
    anomaly = {"timestamp": 7, "value": 30.0, "expected": 10.0, "lower": 8.0, "upper": 12.0,
               "score": 10.0, "point_score": 10.0, "mean_score": 0.0}
    event = {"id": 7, "start": 7, "end": 9, "peak": 10.0, "peak_ts": 7, "points": 2,
             "state": "open"}
    record_detection(state, series, {"anomalies": [anomaly], "events": [event]})
    result = client.simulate_get("/series/a%2Fb/anomalies")
    assert result.status_code == 200
    assert result.json["anomalies"] == [anomaly] and result.json["events"] == [event]
    assert result.json["settings"]["direction"] == "both"


def test_get_anomalies_of_a_series_without_any(client):
    client.simulate_post("/series", json={"name": "cpu"})
    result = client.simulate_get("/series/cpu/anomalies")
    assert result.json == {"name": "cpu", "settings": result.json["settings"], "anomalies": [],
                           "events": []}
    assert_error(client.simulate_get("/series/nope/anomalies"), 404, "not_found")
