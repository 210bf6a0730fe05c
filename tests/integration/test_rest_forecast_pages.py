"""Small, fast replies (issue 15, item 9): real hub, real gunicorn, a forecast of the largest size.

`horizon` beyond MAX_HORIZON is refused; a forecast of MAX_HORIZON points (written into the
hub's store while it is stopped, as a worker's result would be) is served in pages of at
most 1000 points; /enodo/status stays fast while READERS clients read forecast pages; the
read-only token reads but cannot change anything.
"""

from __future__ import annotations

import http.client
import signal
import threading
import time

import pytest
import ujson

from api.routing import series_path
from protocol.settings import MAX_HORIZON
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess, store_forecast

NAME = "pages/cpu"
READER = "reader-token-5f2d"
READERS = 8
ROUNDS = 15  # forecast pages each reader fetches
STATUS_WITHIN = 2.0  # seconds: the slowest /enodo/status while the readers read (was 9.4)


@pytest.fixture
def stack(tmp_path):
    hub = HubProcess(tmp_path).start()
    api = Gunicorn("api.wsgi:app", workers=2, env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_BEARER_TOKEN": "full-token-1",
        "ENODO_API_READ_TOKEN": READER,
    }).start()
    yield hub, api
    api.stop()
    hub.stop(signal.SIGKILL)


def request(api: Gunicorn, method: str, path: str, token: str, body=None):
    return api.request(method, path, body, headers={"Authorization": f"Bearer {token}"})


def test_horizon_capped_forecast_paged_status_fast_read_token_reads_only(stack):
    hub, api = stack
    full = "full-token-1"
    assert request(api, "POST", "/series", full, {"name": NAME})[0] == 201
    status, _, body = request(api, "POST", "/settings", full, {"horizon": 100_000})
    assert status == 400 and "horizon" in body["error"]["message"]
    assert request(api, "POST", "/settings", full, {"horizon": MAX_HORIZON})[0] == 200
    store_forecast(hub, NAME, MAX_HORIZON)

    path = series_path(NAME) + "/forecast"
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {READER}"})
    raw = conn.getresponse().read()
    conn.close()
    first = ujson.loads(raw)
    assert len(raw) < 150_000, f"a forecast reply of {len(raw)} bytes"
    assert (first["total"], len(first["points"]), first["next_offset"]) == (MAX_HORIZON, 1000, 1000)
    timestamps, offset = [], 0
    while offset is not None:
        status, _, page = request(api, "GET", f"{path}?offset={offset}&limit=1000", READER)
        assert status == 200
        timestamps += [p["timestamp"] for p in page["points"]]
        offset = page["next_offset"]
    assert timestamps == list(range(10**12, 10**12 + MAX_HORIZON))
    for bad in ("limit=0", "limit=1001", "offset=-1", "limit=x"):
        assert request(api, "GET", f"{path}?{bad}", READER)[0] == 400

    # READERS clients read forecast pages; /enodo/status meanwhile stays fast.
    failures: list[int] = []

    def read_pages(k: int) -> None:
        for i in range(ROUNDS):
            got = request(api, "GET", f"{path}?offset={(k * ROUNDS + i) % 10 * 1000}", READER)
            if got[0] != 200:
                failures.append(got[0])

    threads = [threading.Thread(target=read_pages, args=(k,)) for k in range(READERS)]
    for thread in threads:
        thread.start()
    took = []
    while any(thread.is_alive() for thread in threads) or not took:
        start = time.monotonic()
        status, _, health = request(api, "GET", "/enodo/status", READER)
        took.append(time.monotonic() - start)
        assert status == 200 and health["series"] == 1
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert max(took) < STATUS_WITHIN, f"slowest /enodo/status of {len(took)}: {max(took):.2f} s"

    # The read-only token changes nothing.
    for method, target, body in (("POST", "/settings", {"horizon": 5}),
                                 ("DELETE", series_path(NAME), None)):
        status, _, answer = request(api, method, target, READER, body)
        assert status == 403 and answer["error"]["code"] == "forbidden"
    assert request(api, "GET", "/settings", READER)[2]["horizon"] == MAX_HORIZON
    assert request(api, "GET", series_path(NAME), READER)[0] == 200
