"""The console in a real headless Chromium against a real stack (SiriDB, hub, worker,
listener, gunicorn): pages load without console errors, the chart holds what the REST API
reports, a series added on the page appears in GET /series, a wrong token sees only the
login page. One browser and one stack for the module. Screenshots are saved only when
ENODO_SCREENSHOTS names a folder (`make screenshots` refreshes docs/screenshots/), so a test
run leaves the checkout as it found it.
"""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from siridb.connector import SiriDBClient

from api.routing import series_path
from tests.support.browser import console_errors, start_chromium
from tests.support.stack import DATABASE, Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(300)

ADMIN, READER = "console-admin-token", "console-read-token"
NAME = "plant/temp 'A'"
STEP, START = 60_000, 1_700_000_000_000  # ms precision, one point a minute
SHOTS = os.environ.get("ENODO_SCREENSHOTS", "")
HORIZON = 12


def value(i: int) -> float:
    return round(20 + 5 * math.sin(2 * math.pi * i / 60) + 0.3 * math.sin(i * 7.1), 3)


def insert(port: int, first: int, count: int, spikes: tuple[int, ...] = ()) -> None:
    rows = [[START + i * STEP, value(i) + (40 if i in spikes else 0)]
            for i in range(first, first + count)]

    async def run() -> None:
        client = SiriDBClient("iris", "siri", DATABASE, [("127.0.0.1", port)], keepalive=True)
        await client.connect()
        try:
            await client.insert({NAME: rows})
        finally:
            client.close()

    asyncio.run(run())


@pytest.fixture(scope="module")
def browser():
    driver = start_chromium()
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("console"), workers=1, listener=True, api=True,
                  api_env={"ENODO_API_BEARER_TOKEN": ADMIN, "ENODO_API_READ_TOKEN": READER})
    try:
        stack.start()
        rest = Rest(stack)
        assert rest("POST", "/settings", {"min_data_points": 100, "fit_every": 20,
                                          "horizon": HORIZON, "reconcile_interval": 1.0})[0] == 200
        insert(stack.db.port, 0, 300)  # history: opens the tee too, so not forwarded
        assert rest("POST", "/series", {"name": NAME, "model": "seasonal_naive"})[0] == 201
        wait_for(lambda: rest.series(NAME)["jobs"]["forecast"]["state"] == "done", 90,
                 "the first forecast")
        insert(stack.db.port, 300, 40, spikes=(310, 325))  # via the tee: judged when counted
        wait_for(lambda: rest("GET", series_path(NAME) + "/anomalies")[2]["anomalies"], 90,
                 "the spikes judged anomalous")
        yield stack
    finally:
        stack.close()


class Rest:
    """The REST API with the full token."""

    def __init__(self, stack: Stack) -> None:
        self.api = stack.api

    def __call__(self, method: str, path: str, body: object = None):
        return self.api.request(method, path, body, headers={"Authorization": f"Bearer {ADMIN}"})

    def series(self, name: str) -> dict:
        return self(method="GET", path=series_path(name))[2]


def url(stack: Stack, path: str = "") -> str:
    return f"http://127.0.0.1:{stack.api.port}/ui{path}"


def submit(driver, button_id: str) -> None:
    """Click a form's button and wait for the page it loads (the old one goes stale)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, button_id).click()
    WebDriverWait(driver, 15).until(lambda _: gone(old))


def gone(element) -> bool:
    """True once element left the document: chromedriver says so as a stale reference or,
    when it asks while the new page replaces the old, as an inspector error about the node."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def log_in(driver, stack: Stack, token: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(url(stack, "/login"))
    driver.find_element(By.ID, "token").send_keys(token)
    submit(driver, "login")


def shot(driver, name: str) -> None:
    """Save the page as <ENODO_SCREENSHOTS>/<name>.png, when that is set."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(SHOTS) / f"{name}.png")), name


def test_a_wrong_token_sees_only_the_login_page(browser, stack):
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    for path in ("", "/settings", "/series/" + quote(NAME, safe=""), "/clients"):
        browser.get(url(stack, path))
        assert browser.current_url == url(stack, "/login")
    log_in(browser, stack, "not-the-token")
    assert browser.current_url == url(stack, "/login")
    assert "wrong token" in browser.find_element(By.ID, "error").text
    assert not browser.find_elements(By.ID, "series")
    assert not browser.find_elements(By.TAG_NAME, "nav")
    shot(browser, "login")
    browser.get(url(stack, "/events"))
    assert browser.current_url == url(stack, "/login")
    # The refused login is answered 401, which Chromium logs; nothing else may be.
    assert [e for e in console_errors(browser) if "/ui/login" not in e or "401" not in e] == []


def test_every_page_loads_without_console_errors(browser, stack):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    console_errors(browser)  # what an earlier test left in the browser's log is not ours
    log_in(browser, stack, ADMIN)
    assert browser.current_url.rstrip("/") == url(stack)
    pages = {"series_list": ("", "series"), "clients": ("/clients", "clients"),
             "events": ("/events", "events"), "settings": ("/settings", "settings-form")}
    for shot_name, (path, element) in pages.items():
        browser.get(url(stack, path))
        assert browser.find_element(By.ID, element)
        # The live part is fetched again after a few seconds: wait for one refresh.
        if browser.find_elements(By.ID, "live"):
            WebDriverWait(browser, 15).until(
                lambda d: d.find_element(By.ID, "live").get_attribute("data-updated"))
        assert console_errors(browser) == [], shot_name
        shot(browser, shot_name)
    browser.get(url(stack))
    assert NAME in browser.find_element(By.ID, "series").text


def test_the_chart_holds_the_forecast_and_marks_each_anomaly(browser, stack):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    rest = Rest(stack)
    log_in(browser, stack, ADMIN)
    browser.get(url(stack, "/series/" + quote(NAME, safe="")))
    chart = browser.find_element(By.ID, "chart")
    WebDriverWait(browser, 30).until(lambda d: chart.get_attribute("data-ready"),
                                     lambda: f"chart not drawn: {console_errors(browser)}")
    traces = browser.execute_script(
        "return document.getElementById('chart').data.map("
        "t => ({name: t.name, ts: t.customdata || null, n: t.x.length}));")
    by_name = {t["name"]: t for t in traces}
    forecast = rest("GET", series_path(NAME) + "/forecast")[2]
    assert forecast["total"] == HORIZON
    assert by_name["forecast"]["ts"] == [p["timestamp"] for p in forecast["points"]]
    anomalies = rest("GET", series_path(NAME) + "/anomalies")[2]["anomalies"]
    assert anomalies and by_name["anomalies"]["ts"] == [a["timestamp"] for a in anomalies]
    assert by_name["history"]["n"] > 300  # read from SiriDB by the API process
    assert "History not shown" not in browser.find_element(By.ID, "chart-note").text
    finished = browser.find_element(By.ID, "job-history").text
    assert "train done" in finished and "forecast done" in finished
    assert console_errors(browser) == []
    shot(browser, "series_page")


def test_a_series_added_on_the_page_appears_in_get_series_and_goes_again(browser, stack):
    from selenium.webdriver.common.by import By

    rest = Rest(stack)
    log_in(browser, stack, ADMIN)
    browser.get(url(stack))
    browser.find_element(By.ID, "add-name").send_keys("added from/the page")
    browser.find_element(By.ID, "add-model").send_keys("ets")
    submit(browser, "add")
    assert browser.find_element(By.ID, "series-name").text == "added from/the page"
    listed = {s["name"]: s for s in rest("GET", "/series")[2]["series"]}
    assert listed["added from/the page"]["model"] == "ets"
    submit(browser, "remove")  # and gone again from its own page
    assert browser.find_element(By.ID, "done").text == "removed added from/the page"
    assert "added from/the page" not in {s["name"] for s in rest("GET", "/series")[2]["series"]}
    assert console_errors(browser) == []


def test_the_read_only_token_sees_pages_but_no_change_controls(browser, stack):
    from selenium.webdriver.common.by import By

    log_in(browser, stack, READER)
    browser.get(url(stack))
    assert browser.find_element(By.ID, "series") and not browser.find_elements(By.ID, "add-form")
    browser.get(url(stack, "/series/" + quote(NAME, safe="")))
    assert not browser.find_elements(By.ID, "queue-train")
    assert console_errors(browser) == []


def test_settings_refusals_show_the_message_post_settings_gives(browser, stack):
    from selenium.webdriver.common.by import By

    rest = Rest(stack)
    log_in(browser, stack, ADMIN)
    browser.get(url(stack, "/settings"))
    field = browser.find_element(By.ID, "set-fit_every")
    field.clear()
    field.send_keys("0")
    submit(browser, "settings-save")
    status, _, body = rest("POST", "/settings", {"fit_every": 0})
    assert status == 400
    assert browser.find_element(By.ID, "error").text == body["error"]["message"]
    assert rest("GET", "/settings")[2]["fit_every"] == 20
    field = browser.find_element(By.ID, "set-fit_every")
    field.clear()
    field.send_keys("25")
    submit(browser, "settings-save")
    assert browser.find_element(By.ID, "done").text == "changed: fit_every"
    assert rest("GET", "/settings")[2]["fit_every"] == 25
    # The refusal was answered 400, which Chromium logs; nothing else may be.
    assert [e for e in console_errors(browser) if "/ui/settings" not in e or "400" not in e] == []


def test_an_output_and_a_silence_made_with_the_alert_forms_are_what_rest_serves(
        browser, stack):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    rest = Rest(stack)
    log_in(browser, stack, ADMIN)
    browser.get(url(stack, "/alerts"))
    form = browser.find_element(By.ID, "output-form")
    form.find_element(By.NAME, "name").send_keys("pager")
    Select(form.find_element(By.NAME, "kind")).select_by_visible_text("webhook")
    form.find_element(By.NAME, "url").send_keys("http://127.0.0.1:9/hook")
    submit(browser, "output-add")
    assert browser.find_elements(By.ID, "done")
    [output] = [o for o in rest("GET", "/alerts/outputs")[2]["outputs"] if o["name"] == "pager"]
    assert (output["kind"], output["url"]) == ("webhook", "http://127.0.0.1:9/hook")

    # The end time as Chromium's datetime-local field sends it (read as UTC).
    form = browser.find_element(By.ID, "silence-form")
    form.find_element(By.NAME, "series").send_keys("plant/*")
    browser.execute_script("arguments[0].value = '2099-01-02T03:04'",
                           form.find_element(By.NAME, "until"))
    form.find_element(By.NAME, "duration").send_keys("2h")  # both: refused
    submit(browser, "silence-add")
    assert "not both or neither" in browser.find_element(By.ID, "error").text
    assert rest("GET", "/alerts/silences")[2]["silences"] == []
    form = browser.find_element(By.ID, "silence-form")
    form.find_element(By.NAME, "series").send_keys("plant/*")
    browser.execute_script("arguments[0].value = '2099-01-02T03:04'",
                           form.find_element(By.NAME, "until"))
    form.find_element(By.NAME, "comment").send_keys("boiler work")
    submit(browser, "silence-add")
    [silence] = rest("GET", "/alerts/silences")[2]["silences"]
    assert (silence["series"], silence["comment"]) == ("plant/*", "boiler work")
    assert silence["ends_at"] == 4071006240.0  # 2099-01-02 03:04 UTC
    assert "2099-01-02 03:04" in browser.find_element(By.ID, "alert-silences").text
    shot(browser, "alerts")

    submit(browser, f"silence-remove-{silence['id']}")
    submit(browser, "output-remove-pager")
    assert rest("GET", "/alerts/silences")[2]["silences"] == []
    assert "pager" not in {o["name"] for o in rest("GET", "/alerts/outputs")[2]["outputs"]}
    assert [e for e in console_errors(browser) if "/ui/alerts" not in e or "400" not in e] == []
