"""The console's pages over falcon's TestClient and a real HubState: sessions, CSRF, the
read-only token, forms that change the hub, and the hub's own messages on refusals."""

from __future__ import annotations

import re

import pytest
from falcon import testing

from api.app import create_app
from api.console.session import COOKIE
from tests.api.console_hub import StateHub
from tests.support.hub_state import make_state

ADMIN, READER = "admin-token", "reader-token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def hub(tmp_path) -> StateHub:
    return StateHub(make_state(tmp_path / "hub.db"))


@pytest.fixture
def client(hub) -> testing.TestClient:
    return testing.TestClient(create_app(hub, bearer=lambda: ADMIN, read_bearer=lambda: READER))


def log_in(client: testing.TestClient, token: str) -> tuple[dict[str, str], str]:
    """Cookie header and CSRF token of a fresh session."""
    resp = client.simulate_post("/ui/login", body=f"token={token}", headers=FORM)
    assert resp.status_code == 303 and resp.headers["location"].endswith("/ui")
    cookie = resp.cookies[COOKIE]
    assert cookie.http_only and cookie.same_site.lower() == "strict" and cookie.path == "/ui"
    headers = {"Cookie": f"{COOKIE}={cookie.value}"}
    page = client.simulate_get("/ui", headers=headers)
    return headers, re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def post(client, path, headers, **fields):
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    return client.simulate_post(path, body=body, headers={**headers, **FORM})


def test_without_a_session_every_page_sends_to_the_login(client):
    for path in ("/ui", "/ui/settings", "/ui/clients", "/ui/events", "/ui/series/x"):
        resp = client.simulate_get(path)
        assert resp.status_code == 303 and resp.headers["location"] == "/ui/login", path
    assert client.simulate_get("/ui/series/x/chart").status_code == 401
    forged = {"Cookie": f"{COOKIE}=admin.9999999999.00.deadbeef"}
    assert client.simulate_get("/ui", headers=forged).status_code == 303
    wrong = client.simulate_post("/ui/login", body="token=nope", headers=FORM)
    assert wrong.status_code == 401 and "wrong token" in wrong.text and COOKIE not in wrong.cookies


def test_pages_render_for_a_session(client, hub):
    headers, _ = log_in(client, ADMIN)
    hub.request("add_series", {"name": "a/b", "model": "ets"})
    for path in ("/ui", "/ui/clients", "/ui/events", "/ui/settings", "/ui/series/a%2Fb"):
        resp = client.simulate_get(path, headers=headers)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in resp.headers["content-security-policy"]
    assert "a/b" in client.simulate_get("/ui?part=live", headers=headers).text
    chart = client.simulate_get("/ui/series/a%2Fb/chart", headers=headers).json
    assert chart["forecast"]["ts"] == [] and "no SiriDB" in chart["history"]["error"]
    assert client.simulate_get("/ui/static/plotly.min.js").status_code == 200
    assert "/ui" not in str(client.simulate_get("/openapi.json").json["paths"])


def test_changes_need_the_sessions_csrf_token(client, hub):
    headers, csrf = log_in(client, ADMIN)
    other_headers, other_csrf = log_in(client, ADMIN)
    assert other_csrf != csrf
    for token in ("", other_csrf):
        resp = post(client, "/ui/series", headers, name="x", csrf=token)
        assert resp.status_code == 403 and "CSRF" in resp.json["error"]["message"]
    assert hub.request("list_series")["series"] == []
    resp = post(client, "/ui/series", headers, name="x", model="ets", csrf=csrf)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/ui/series/x")
    assert [s["name"] for s in hub.request("list_series")["series"]] == ["x"]


def test_the_read_only_token_views_but_cannot_change(client, hub):
    headers, csrf = log_in(client, READER)
    assert client.simulate_get("/ui/settings", headers=headers).status_code == 200
    resp = post(client, "/ui/settings", headers, horizon="12", csrf=csrf)
    assert resp.status_code == 403 and "read-only" in resp.json["error"]["message"]
    assert hub.request("get_settings")["horizon"] == 24


def test_settings_refusals_carry_the_hubs_message_and_change_nothing(client, hub):
    headers, csrf = log_in(client, ADMIN)
    resp = post(client, "/ui/settings", headers, horizon="12x", fit_every="7", csrf=csrf)
    assert resp.status_code == 400
    assert "settings: &#39;horizon&#39; must be int, not str" in resp.text
    resp = post(client, "/ui/settings", headers, horizon="0", csrf=csrf)
    assert resp.status_code == 400 and "must be 1 to 10000" in resp.text
    assert hub.request("get_settings")["fit_every"] == 20
    resp = post(client, "/ui/settings", headers, horizon="12", csrf=csrf)
    assert resp.status_code == 200 and "changed: horizon" in resp.text
    assert hub.request("get_settings")["horizon"] == 12


def test_series_forms_queue_jobs_edit_anomaly_settings_and_remove(client, hub):
    headers, csrf = log_in(client, ADMIN)
    hub.request("add_series", {"name": "s", "model": "ets"})
    resp = post(client, "/ui/series/s/jobs", headers, type="fit", csrf=csrf)
    assert "error=" in resp.headers["location"] and "train+it+first" in resp.headers["location"]
    queued = []
    hub.state.scheduler.request = lambda series, kind: queued.append((series.name, kind))
    resp = post(client, "/ui/series/s/jobs", headers, type="train", csrf=csrf)
    assert "done=train+queued" in resp.headers["location"] and queued == [("s", "train")]
    resp = post(client, "/ui/series/s/anomaly", headers, k="2", n="3", direction="above",
                csrf=csrf)
    assert "done=" in resp.headers["location"]
    assert hub.request("get_series", {"name": "s"})["anomaly"]["k"] == 2
    resp = post(client, "/ui/series/s/anomaly", headers, k="5", n="3", csrf=csrf)
    assert "error=anomaly" in resp.headers["location"]
    assert hub.request("get_series", {"name": "s"})["anomaly"]["k"] == 2
    resp = post(client, "/ui/series/s/remove", headers, csrf=csrf)
    assert resp.status_code == 303 and hub.request("list_series")["series"] == []
    gone = client.simulate_get("/ui/series/s", headers=headers)
    assert gone.status_code == 404 and "series &#39;s&#39; not found" in gone.text


def test_the_list_filters_sorts_and_pages_by_name(client, hub):
    headers, _ = log_in(client, ADMIN)
    for i in range(60):
        hub.request("add_series", {"name": f"cpu{i:02d}" if i % 2 else f"mem{i:02d}"})
    page = client.simulate_get("/ui?filter=CPU&order=desc", headers=headers).text
    names = re.findall(r'class="series-link">([^<]+)<', page)
    assert names == sorted((f"cpu{i:02d}" for i in range(1, 60, 2)), reverse=True)
    first = client.simulate_get("/ui", headers=headers).text
    assert len(re.findall(r'class="series-link"', first)) == 50 and 'id="next"' in first
    second = client.simulate_get("/ui?offset=50", headers=headers).text
    assert len(re.findall(r'class="series-link"', second)) == 10


def test_the_list_filters_by_state_and_model_and_pages_keep_them(client, hub):
    headers, _ = log_in(client, ADMIN)
    for i in range(120):
        hub.request("add_series", {"name": f"s{i:03d}", "model": "prophet" if i % 2 else "arima"})
    for i in range(0, 120, 4):  # 30 arima series with a failed forecast
        hub.state.series.get(f"s{i:03d}").jobs["forecast"]["state"] = "failed"
    page = client.simulate_get("/ui?state=failed&model=arima", headers=headers).text
    names = re.findall(r'class="series-link">([^<]+)<', page)
    assert names == [f"s{i:03d}" for i in range(0, 120, 4)] and "30 series" in page
    prophet = client.simulate_get("/ui?model=prophet", headers=headers).text
    assert len(re.findall(r'class="series-link"', prophet)) == 50
    link = re.search(r'href="([^"]+)" id="next"', prophet).group(1).replace("&amp;", "&")
    second = client.simulate_get(link.split("?")[0], query_string=link.split("?")[1],
                                 headers=headers).text
    assert re.findall(r'class="series-link">([^<]+)<', second) == [
        f"s{i:03d}" for i in range(101, 120, 2)]
    bad = client.simulate_get("/ui?state=asleep", headers=headers)
    assert bad.status_code == 200 and "unknown state &#39;asleep&#39;" in bad.text


def test_logout_needs_csrf_and_clears_the_cookie(client):
    headers, csrf = log_in(client, ADMIN)
    assert post(client, "/ui/logout", headers, csrf="x").status_code == 403
    resp = post(client, "/ui/logout", headers, csrf=csrf)
    assert resp.status_code == 303 and resp.cookies[COOKIE].value == ""


def test_the_clients_page_says_which_worker_runs_which_job(client, hub):
    from tests.support.hub_state import hello

    state = hub.state
    headers, _ = log_in(client, ADMIN)
    peer = state.admit(b"w1", hello("worker-1", "worker").body)
    hub.request("add_series", {"name": "busy one", "model": "ets"})
    series = state.get_series("busy one")
    series.jobs["train"].update(state="running", worker="worker-1")
    peer.busy_jobs.add("job-1")
    peer.address = "192.0.2.7"  # read from its handshake's frames (test_hub_process.py)
    page = client.simulate_get("/ui/clients", headers=headers).text
    row = re.search(r"<td>worker-1</td>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[:4] == ["worker", "yes", "yes", "train busy one"]
    assert cells[5] == "192.0.2.7"  # after capacity: where the worker connects from


def test_the_alerts_page_shows_outputs_silences_and_deliveries(tmp_path):
    from protocol.alerts import Alert, AlertKind, AlertStatus, Severity

    state = make_state(tmp_path / "alerts-hub", alerts=True)
    hub = StateHub(state)
    client = testing.TestClient(create_app(hub, bearer=lambda: ADMIN, read_bearer=lambda: READER))
    headers, _ = log_in(client, READER)
    assert "No outputs" in client.simulate_get("/ui/alerts", headers=headers).text
    hub.request("add_alert_output", {"name": "ops", "kind": "webhook", "secret": "s3cr3t",
                                     "url": "http://127.0.0.1:9/hook", "series": "cpu.*"})
    hub.request("add_silence", {"series": "db.*", "ends_at": state.wall() + 60,
                                "comment": "maintenance"})
    state.alerts.notify(Alert(key="anomaly:cpu.a:1", kind=AlertKind.ANOMALY,
                              status=AlertStatus.FIRING, series="cpu.a",
                              severity=Severity.WARNING, at=state.wall(), summary="s"))
    page = client.simulate_get("/ui/alerts", params={"part": "live"}, headers=headers)
    assert page.status_code == 200 and "s3cr3t" not in page.text
    outputs = re.search(r'<table id="alert-outputs">(.*?)</table>', page.text, re.S).group(1)
    assert "<td>ops</td>" in outputs and "cpu.*" in outputs
    assert "maintenance" in page.text and "db.*" in page.text
    deliveries = re.search(r'<table id="alert-deliveries">(.*?)</table>', page.text, re.S).group(1)
    assert "anomaly:cpu.a:1" in deliveries and "<td>pending</td>" in deliveries
