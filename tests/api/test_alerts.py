"""/alerts/outputs, /alerts/silences, /alerts/deliveries over the hub's real actions."""

from __future__ import annotations

import time

import pytest

from protocol.alerts import Alert, AlertKind, AlertStatus, Severity
from scripts.alert_receiver import AlertReceiver
from tests.support.alert_book import fire, turn
from tests.support.waiting import wait_for

WEBHOOK = {"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "s3"}


def test_an_output_is_added_listed_without_its_secret_and_deleted(client):
    added = client.simulate_post("/alerts/outputs", json=WEBHOOK)
    assert added.status_code == 201, added.text
    assert added.headers["Location"].endswith("/alerts/outputs/ops")
    assert added.json["secret_set"] is True and "secret" not in added.json
    listed = client.simulate_get("/alerts/outputs").json["outputs"]
    assert [(o["name"], o["kind"], o["url"]) for o in listed] == [
        ("ops", "webhook", "http://127.0.0.1:9/hook")]
    assert "s3" not in client.simulate_get("/alerts/outputs").text
    assert client.simulate_post("/alerts/outputs", json=WEBHOOK).status_code == 409
    assert client.simulate_delete("/alerts/outputs/ops").json == {"deleted": "ops"}
    assert client.simulate_get("/alerts/outputs").json == {"outputs": []}
    assert client.simulate_delete("/alerts/outputs/ops").status_code == 404


@pytest.mark.parametrize("body", [
    {"name": "x", "kind": "pager", "url": "http://h"},          # unknown kind
    {"name": "x y", "kind": "webhook", "url": "http://h"},      # bad name
    {"name": "x", "kind": "webhook", "url": "gopher://h"},      # not http
    {"name": "x", "kind": "apprise"},                           # no URL
    {"name": "x", "kind": "apprise", "url": "nosuchservice://a"},  # apprise refuses it
    {"name": "x", "kind": "webhook", "url": "http://h", "series": "/(/"},  # bad regex
    {"name": "x", "kind": "webhook", "url": "http://h", "colour": "red"},
])
def test_a_bad_output_is_refused_and_nothing_changes(client, body):
    answer = client.simulate_post("/alerts/outputs", json=body)
    assert answer.status_code == 400, answer.text
    assert client.simulate_get("/alerts/outputs").json == {"outputs": []}


def test_alertmanager_and_apprise_outputs_are_taken(client):
    am = {"name": "am", "kind": "alertmanager", "url": "http://127.0.0.1:9093",
          "kinds": ["anomaly", "system"], "min_severity": "warning"}
    assert client.simulate_post("/alerts/outputs", json=am).status_code == 201
    chat = {"name": "chat", "kind": "apprise", "urls": ["json://127.0.0.1:9/x",
                                                         "mailto://u:pw@example.com"]}
    added = client.simulate_post("/alerts/outputs", json=chat)
    assert added.status_code == 201, added.text
    assert added.json["urls"] == ["json://***", "mailto://***"]  # their credentials hidden


def test_silences_are_added_listed_and_ended(client, state):
    ends = state.wall() + 3600
    added = client.simulate_post("/alerts/silences",
                                 json={"series": "cpu.*", "ends_at": ends, "comment": "maint"})
    assert added.status_code == 201, added.text
    silence_id = added.json["id"]
    assert [s["id"] for s in client.simulate_get("/alerts/silences").json["silences"]] == [
        silence_id]
    past = client.simulate_post("/alerts/silences", json={"series": "x", "ends_at": 1.0})
    assert past.status_code == 400
    assert client.simulate_delete(f"/alerts/silences/{silence_id}").status_code == 200
    assert client.simulate_get("/alerts/silences").json == {"silences": []}
    assert client.simulate_delete(f"/alerts/silences/{silence_id}").status_code == 404


def test_deliveries_show_each_alert_sent_to_each_output_with_its_state(client, state):
    client.simulate_post("/alerts/outputs", json=WEBHOOK)
    state.alerts.notify(Alert(key="anomaly:cpu:1", kind=AlertKind.ANOMALY,
                              status=AlertStatus.FIRING, series="cpu",
                              severity=Severity.WARNING, at=state.wall(), summary="s"))
    rows = client.simulate_get("/alerts/deliveries", params={"output": "ops"}).json["deliveries"]
    assert [(d["output"], d["key"], d["status"], d["state"]) for d in rows] == [
        ("ops", "anomaly:cpu:1", "firing", "pending")]
    assert client.simulate_get("/alerts/deliveries", params={"limit": 0}).status_code == 400


def test_a_delivery_the_receiver_refused_shows_rejected_with_its_status(client, state):
    receiver = AlertReceiver(answers=[401]).start()
    try:
        state.alerts.tick(time.monotonic())
        hook = {**WEBHOOK, "url": receiver.url, "backoff": 0.05}
        assert client.simulate_post("/alerts/outputs", json=hook).status_code == 201
        fire(state.alerts)
        turn(state.alerts)

        def rows() -> list[dict]:
            state.alerts.tick(time.monotonic())  # the loop records the outcome
            return client.simulate_get("/alerts/deliveries").json["deliveries"]

        wait_for(lambda: rows()[0]["state"] == "rejected", 10, "the delivery rejected")
        [row] = rows()
        assert (row["attempts"], row["error"]) == (1, "HTTP 401 Unauthorized")
        assert receiver.posts == 1
    finally:
        state.alerts.close()
        receiver.stop()


@pytest.mark.parametrize("query", ["output=", "output=a&output=b", "output=no%20spaces"])
def test_a_bad_output_filter_of_deliveries_is_refused(client, query):
    assert client.simulate_get("/alerts/deliveries", query_string=query).status_code == 400
