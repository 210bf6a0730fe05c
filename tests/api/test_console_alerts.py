"""The console's alert forms and the series page's rules and analysis, over falcon's
TestClient and a real HubState with its alert book: the forms run the hub's own actions."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from falcon import testing

from actors.hub.rules import apply_states, checked_states, store_analysis
from api.app import create_app
from tests.api.console_hub import StateHub
from tests.api.test_console import ADMIN, FORM, READER, log_in
from tests.support.hub_state import FakeClock, make_state

NOW = 1_764_720_000.0  # 2025-12-03 00:00 UTC: a wall clock the silences' ends are after


@pytest.fixture
def hub(tmp_path) -> StateHub:
    clock = FakeClock()
    clock.now = NOW
    return StateHub(make_state(tmp_path / "hub", clock=clock, alerts=True))


@pytest.fixture
def client(hub) -> testing.TestClient:
    return testing.TestClient(create_app(hub, bearer=lambda: ADMIN, read_bearer=lambda: READER))


def post(client, path, headers, **fields):
    return client.simulate_post(path, body=urlencode(fields), headers={**headers, **FORM})


def follow(client, resp, headers) -> str:
    """The page a form's 303 leads to (with its done or error message)."""
    assert resp.status_code == 303, resp.text
    where = urlsplit(resp.headers["location"])
    return client.simulate_get(where.path, query_string=where.query, headers=headers).text


def message(resp, key: str) -> str:
    return parse_qs(urlsplit(resp.headers["location"]).query)[key][0]


def outputs(hub) -> list[str]:
    return [o["name"] for o in hub.request("list_alert_outputs")["outputs"]]


def silences(hub) -> list[dict]:
    return hub.request("list_silences")["silences"]


def test_outputs_are_added_and_deleted_through_the_forms(client, hub):
    headers, csrf = log_in(client, ADMIN)
    page = client.simulate_get("/ui/alerts", headers=headers).text
    assert 'id="output-form"' in page and 'id="silence-form"' in page
    resp = post(client, "/ui/alerts/outputs", headers, csrf=csrf, name="ops", kind="webhook",
                url="http://127.0.0.1:9/hook", secret="s3cr3t")
    assert message(resp, "done") == "output ops added"
    shown = follow(client, resp, headers)
    assert "s3cr3t" not in shown and 'id="output-remove-ops"' in shown
    resp = post(client, "/ui/alerts/outputs", headers, csrf=csrf, name="chat", kind="apprise",
                url="json://127.0.0.1:9/")
    assert message(resp, "done") == "output chat added"
    listed = {o["name"]: o for o in hub.request("list_alert_outputs")["outputs"]}
    assert listed["ops"]["secret_set"] and listed["ops"]["url"] == "http://127.0.0.1:9/hook"
    assert listed["chat"]["kind"] == "apprise" and listed["chat"]["urls"] == ["json://***"]
    resp = post(client, "/ui/alerts/outputs/ops/remove", headers, csrf=csrf)
    assert message(resp, "done") == "output ops deleted" and outputs(hub) == ["chat"]
    resp = post(client, "/ui/alerts/outputs/ops/remove", headers, csrf=csrf)
    assert message(resp, "error") == "alert output 'ops' not found"


def test_silences_are_added_for_a_duration_or_until_a_time_and_deleted(client, hub):
    headers, csrf = log_in(client, ADMIN)
    resp = post(client, "/ui/alerts/silences", headers, csrf=csrf, series="db.*",
                duration="2h", comment="maintenance")
    assert message(resp, "done") == "alerts of db.* silenced"
    resp = post(client, "/ui/alerts/silences", headers, csrf=csrf, series="/^cpu/",
                until="2099-01-02T03:04")
    assert resp.status_code == 303 and "done" in resp.headers["location"]
    by_series = {s["series"]: s for s in silences(hub)}
    assert by_series["db.*"]["comment"] == "maintenance"
    assert by_series["db.*"]["ends_at"] > NOW + 7000
    assert by_series["/^cpu/"]["ends_at"] == 4071006240.0  # 2099-01-02 03:04 UTC
    gone = by_series["db.*"]["id"]
    page = follow(client, resp, headers)
    assert f'id="silence-remove-{gone}"' in page and "2099-01-02 03:04:00" in page
    resp = post(client, f"/ui/alerts/silences/{gone}/remove", headers, csrf=csrf)
    assert message(resp, "done") == f"silence {gone} ended"
    assert [s["series"] for s in silences(hub)] == ["/^cpu/"]


def test_the_read_only_token_sees_no_forms_and_is_refused(client, hub):
    hub.request("add_alert_output", {"name": "ops", "kind": "webhook", "url": "http://h/"})
    hub.request("add_silence", {"series": "x", "ends_at": NOW + 60})
    headers, csrf = log_in(client, READER)
    page = client.simulate_get("/ui/alerts", headers=headers).text
    assert "<td>ops</td>" in page
    assert 'id="output-form"' not in page and "/remove" not in page
    sid = silences(hub)[0]["id"]
    for path, fields in (("/ui/alerts/outputs", {"name": "b", "kind": "webhook", "url": "u"}),
                         ("/ui/alerts/outputs/ops/remove", {}),
                         ("/ui/alerts/silences", {"series": "y", "duration": "1h"}),
                         (f"/ui/alerts/silences/{sid}/remove", {})):
        resp = post(client, path, headers, csrf=csrf, **fields)
        assert resp.status_code == 403 and "read-only" in resp.json["error"]["message"], path
    assert outputs(hub) == ["ops"] and [s["id"] for s in silences(hub)] == [sid]
    admin, _ = log_in(client, ADMIN)
    resp = post(client, "/ui/alerts/outputs/ops/remove", admin, csrf="wrong")
    assert resp.status_code == 403 and outputs(hub) == ["ops"]


@pytest.mark.parametrize(("path", "fields", "says"), [
    ("/ui/alerts/outputs", {"name": "bad name", "kind": "webhook", "url": "http://h/"},
     "'name' must be 1 to 64 of A-Z a-z 0-9 _ . -"),
    ("/ui/alerts/outputs", {"name": "a", "kind": "pager", "url": "http://h/"},
     "'kind' must be one of webhook, alertmanager, apprise"),
    ("/ui/alerts/outputs", {"name": "a", "kind": "webhook", "url": ""}, "'url' is required"),
    ("/ui/alerts/outputs", {"name": "a", "kind": "apprise", "url": "json://h", "secret": "k"},
     "a secret signs webhook sends only"),
    ("/ui/alerts/silences", {"series": "x"}, "give an end time (UTC) or a duration"),
    ("/ui/alerts/silences", {"series": "x", "duration": "1h", "until": "2099-01-01T00:00"},
     "not both or neither"),
    ("/ui/alerts/silences", {"series": "x", "duration": "soon"}, "silence: duration must be"),
    ("/ui/alerts/silences", {"series": "x", "until": "tomorrow"}, "is not a time such as"),
    ("/ui/alerts/silences", {"series": "x", "until": "2001-01-01T00:00"},
     "'ends_at' is in the past"),
    ("/ui/alerts/silences", {"series": "/[/", "duration": "1h"}, "silence:"),
    ("/ui/alerts/silences", {"series": "", "duration": "1h"}, "'series' is required"),
])
def test_a_bad_form_shows_the_error_and_changes_nothing(client, hub, path, fields, says):
    headers, csrf = log_in(client, ADMIN)
    resp = post(client, path, headers, csrf=csrf, **fields)
    error = message(resp, "error")
    assert says in error
    page = follow(client, resp, headers)
    assert re.search(r'<p class="error" id="error">[^<]+</p>', page)
    assert outputs(hub) == [] and silences(hub) == []


def test_a_taken_output_name_is_the_hubs_refusal_on_the_page(client, hub):
    headers, csrf = log_in(client, ADMIN)
    fields = {"name": "ops", "kind": "alertmanager", "url": "http://127.0.0.1:9"}
    assert "done" in post(client, "/ui/alerts/outputs", headers, csrf=csrf, **fields).headers[
        "location"]
    resp = post(client, "/ui/alerts/outputs", headers, csrf=csrf,
                **{**fields, "url": "http://other"})
    assert "ops" in message(resp, "error")
    [view] = hub.request("list_alert_outputs")["outputs"]
    assert view["url"] == "http://127.0.0.1:9"


def test_the_series_page_shows_rule_states_and_the_analysis(client, hub):
    headers, _ = log_in(client, ADMIN)
    state = hub.state
    hub.request("add_series", {"name": "disk", "model": "ets"})
    hub.request("set_rules", {"name": "disk", "rules": [
        {"kind": "data", "op": "above", "threshold": 90, "id": "hot"},
        {"kind": "forecast", "op": "above", "threshold": 100, "within": "7d", "id": "full"}]})
    page = client.simulate_get("/ui/series/disk", headers=headers).text
    assert "Not analysed yet" in page and re.search(r"<td>hot</td>.*?unknown", page, re.S)
    series = state.get_series("disk")
    since, crossing = int(NOW) - 600, int(NOW) + 3 * 86400
    apply_states(state, series, checked_states(state, series, {
        "hot": {"id": "hot", "kind": "data", "status": "ok", "since": since},
        "full": {"id": "full", "kind": "forecast", "status": "firing", "since": since,
                 "crossing_at": crossing, "value": 100.5,
                 "changes": [{"status": "firing", "ts": since}]}}))
    store_analysis(state, series, {
        "points": 2000, "health": "warning", "reasons": ["3 gaps longer than 3 intervals"],
        "interval": 60.0, "regularity": 0.97, "noise": 1.25, "noise_ratio": 0.1,
        "trend": {"direction": "up", "slope": 0.001, "change": 12.0, "strength": 0.6},
        "seasons": [{"points": 1440.0, "period": 86400.0, "strength": 0.8}]})
    live = client.simulate_get("/ui/series/disk", params={"part": "live"}, headers=headers).text
    rules = re.search(r'<table id="series-rules">(.*?)</table>', live, re.S).group(1)
    full = re.search(r"<tr class=\"rule-firing\"><td>full</td>(.*?)</tr>", rules, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", full, re.S)
    assert cells[0] == "forecast" and cells[1] == "above 100 within 7d"
    assert cells[3] == "firing" and cells[4] == "2025-12-02T23:50:00+00:00"
    assert cells[5] == "2025-12-06T00:00:00+00:00"
    assert re.search(r'<tr class="rule-ok"><td>hot</td>', rules)
    analysis = re.search(r'<table class="kv" id="series-analysis">(.*?)</table>', live,
                         re.S).group(1)
    assert "warning: 3 gaps longer than 3 intervals" in analysis
    for text in ("<td>1m</td>", "97% of steps", "1d (strength 0.80)", "up (strength 0.60",
                 "1.25 (10% of the spread)"):
        assert text in analysis, text
