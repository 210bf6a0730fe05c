"""/series routes over a fake hub: listing, adding, reading, removing, jobs, outputs."""

from __future__ import annotations

import pytest

from tests.api.checks import assert_error


def add(client, name="cpu", **extra):
    return client.simulate_post("/series", json={"name": name, **extra})


def test_list_empty(client):
    result = client.simulate_get("/series")
    assert result.status_code == 200
    assert result.json == {"series": [], "total": 0, "limit": 1000, "next": None}


def test_add_returns_201_detail_and_location(client, hub):
    result = add(client, "cpu", model="prophet", model_parameters={"n_changepoints": 10},
                 realtime=True)
    assert result.status_code == 201
    assert result.json["name"] == "cpu"
    assert result.json["model"] == "prophet"
    assert result.headers["location"] == "/series/cpu"
    assert hub.calls[-1] == (
        "add_series",
        {"name": "cpu", "model": "prophet", "model_parameters": {"n_changepoints": 10},
         "realtime": True},
    )


def test_add_with_only_a_name(client, hub):
    assert add(client).status_code == 201
    assert hub.calls[-1] == ("add_series", {"name": "cpu"})


@pytest.mark.parametrize(("legacy", "model"), [(1, "arima"), (2, "prophet")])
def test_add_with_legacy_model_id(client, legacy, model):
    result = add(client, model=legacy)
    assert result.status_code == 201
    assert result.json["model"] == model


def test_list_after_add(client):
    add(client, "a")
    add(client, "b")
    result = client.simulate_get("/series")
    assert [s["name"] for s in result.json["series"]] == ["a", "b"]


def test_get_one(client):
    add(client, "cpu")
    result = client.simulate_get("/series/cpu")
    assert result.status_code == 200
    assert result.json["name"] == "cpu"


def test_delete(client, hub):
    add(client, "cpu")
    result = client.simulate_delete("/series/cpu")
    assert result.status_code == 200
    assert result.json == {"name": "cpu"}
    assert len(hub.state.series) == 0
    assert_error(client.simulate_get("/series/cpu"), 404, "not_found")


def test_duplicate_is_409(client):
    add(client, "cpu")
    message = assert_error(add(client, "cpu"), 409, "conflict")
    assert "cpu" in message


def test_unknown_model_is_400_from_the_hub(client, hub):
    message = assert_error(add(client, model="lstm"), 400, "invalid")
    assert "lstm" in message
    assert hub.actions() == ["add_series"]


@pytest.mark.parametrize("method", ["simulate_get", "simulate_delete"])
def test_unknown_series_is_404(client, method):
    message = assert_error(getattr(client, method)("/series/nope"), 404, "not_found")
    assert "nope" in message


@pytest.mark.parametrize(("kind", "key"), [("forecast", "points"), ("anomalies", "anomalies")])
def test_outputs(client, hub, kind, key):
    add(client, "cpu")
    result = client.simulate_get(f"/series/cpu/{kind}")
    assert result.status_code == 200
    assert key in result.json
    assert hub.calls[-1] == (f"get_{kind}", {"name": "cpu"})


@pytest.mark.parametrize("kind", ["forecast", "anomalies"])
def test_outputs_of_unknown_series_are_404(client, kind):
    assert_error(client.simulate_get(f"/series/nope/{kind}"), 404, "not_found")


@pytest.mark.parametrize("job_type", ["train", "fit", "forecast"])
def test_queue_job_is_202(client, hub, job_type):
    add(client, "cpu")
    hub.state.series.get("cpu").trained_at = 1.0  # fit and forecast need a model
    result = client.simulate_post("/series/cpu/jobs", json={"type": job_type})
    assert result.status_code == 202
    assert result.json["job_type"] == job_type
    assert result.json["jobs"][job_type]["state"] == "queued"
    assert hub.calls[-1] == ("queue_job", {"name": "cpu", "job_type": job_type})


@pytest.mark.parametrize("job_type", ["fit", "forecast"])
def test_fit_or_forecast_before_training_is_409(client, job_type):
    add(client, "cpu")
    result = client.simulate_post("/series/cpu/jobs", json={"type": job_type})
    assert "train it first" in assert_error(result, 409, "conflict")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"type": "predict"}, "one of"),
        ({"type": 1}, "'type'"),
        ({}, "missing key 'type'"),
        ({"type": "fit", "when": "now"}, "unexpected key 'when'"),
    ],
)
def test_bad_job_body_is_400_and_not_sent(client, hub, body, words):
    add(client, "cpu")
    message = assert_error(client.simulate_post("/series/cpu/jobs", json=body), 400, "invalid")
    assert words in message
    assert "queue_job" not in hub.actions()


def test_job_for_unknown_series_is_404(client):
    result = client.simulate_post("/series/nope/jobs", json={"type": "train"})
    assert_error(result, 404, "not_found")


def test_method_not_allowed_has_the_error_shape(client):
    result = client.simulate_put("/series")
    message = assert_error(result, 405, "method_not_allowed")
    assert "PUT" in message
    assert "POST" in result.headers["allow"]


def test_null_data_is_a_json_null(client, hub):
    hub.overrides["enodo_status"] = lambda params: None
    result = client.simulate_get("/enodo/status")
    assert result.status_code == 200
    assert result.text == "null"
    assert result.headers["content-type"].startswith("application/json")


def test_unicode_is_sent_as_utf8(client):
    add(client, "température")
    result = client.simulate_get("/series/temp%C3%A9rature")
    assert "température".encode() in result.content
