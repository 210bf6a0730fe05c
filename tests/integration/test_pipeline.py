"""The whole pipeline as real processes: SiriDB (development server), hub, listener,
two workers and gunicorn. Points inserted into SiriDB flow through the tee to the
listener, the hub turns counts into jobs, workers train and forecast, and the results
show over REST, in SiriDB and at a subscribed ZMQ client.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import sys

import pytest
from siridb.connector import SiriDBClient

from api.routing import series_path
from tests.support.stack import Stack
from tests.support.waiting import wait_for

NAME = "plant/temp 'A'"
STEP = 60_000  # one point a minute, ms precision
START = 1_700_000_000_000


def seasonal(i: int) -> float:
    return round(20 + 5 * math.sin(2 * math.pi * i / 60) + 0.01 * i + 0.3 * math.sin(i * 7.1), 3)


def points(first: int, count: int) -> list[list]:
    return [[START + i * STEP, seasonal(i)] for i in range(first, first + count)]


def siridb(port: int, coro_fn):
    async def run():
        client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)], keepalive=True)
        await client.connect()
        try:
            return await coro_fn(client)
        finally:
            client.close()

    return asyncio.run(run())


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=2, listener=True, api=True)
    try:
        stack.start()
        yield stack.db, stack.hub, stack.api
    finally:
        stack.close()


def test_points_become_counts_jobs_forecasts_and_updates(stack, tmp_path):
    db, hub, api = stack
    status, _, _ = api.request("POST", "/settings", {
        "min_data_points": 100, "fit_every": 20, "horizon": 12, "reconcile_interval": 1.0,
    })
    assert status == 200
    # History first: this insert also opens the tee connection, so SiriDB does not forward it.
    siridb(db.port, lambda c: c.insert({NAME: points(0, 300)}))

    # A ZMQ client that follows the series, as an operator would run it.
    watch_out = tmp_path / "watch.out"
    with open(watch_out, "wb") as out:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "scripts.client", "--hub", hub.address("control"),
             "--token", hub.token, "--client-id", "watcher", "--json", "watch", NAME],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: any(c["client_id"] == "watcher" and c["online"] for c in
                             api.request("GET", "/enodo/clients")[2]["clients"]),
                 15, "the watcher to come online")
        assert api.request("POST", "/series", {"name": NAME, "model": "arima"})[0] == 201

        def status_of():
            return api.request("GET", series_path(NAME))[2]

        wait_for(lambda: status_of()["jobs"]["forecast"]["state"] == "done", 60,
                 "the first forecast")
        detail = status_of()
        assert detail["points_siridb"] == 300 and detail["trained_at"] is not None

        # New points through the ordinary insert path: the tee carries them to the listener.
        for first in range(300, 340, 10):
            siridb(db.port, lambda c, f=first: c.insert({NAME: points(f, 10)}))
        wait_for(lambda: status_of()["points_counted"] == 40, 20, "40 points counted via the tee")
        wait_for(lambda: status_of()["jobs"]["fit"]["state"] == "done", 60, "a fit")
        wait_for(lambda: status_of()["last_forecast"]["start"] > START + 339 * STEP, 60,
                 "a forecast after the new points")

        status, _, forecast = api.request("GET", series_path(NAME) + "/forecast")
        assert status == 200 and len(forecast["points"]) == 12
        first_point = forecast["points"][0]
        assert first_point["lower"] <= first_point["mean"] <= first_point["upper"]
        assert api.request("GET", series_path(NAME) + "/anomalies")[0] == 200

        written = siridb(db.port, lambda c: c.query(
            "select * from 'enodo.plant/temp ''A''.forecast'"))
        assert len(written["enodo.plant/temp 'A'.forecast"]) == 12

        def watched_events():
            lines = watch_out.read_text().splitlines()
            return {json.loads(line).get("event") for line in lines if line.startswith("{")}

        wait_for(lambda: {"added", "forecast"} <= watched_events(), 10,
                 "the watcher to print the added and forecast updates")

        # One worker may have done every job while the other's model process still started.
        def both_workers():
            hub_status = api.request("GET", "/enodo/status")[2]
            return hub_status if hub_status["peers"]["worker"] == 2 else None

        hub_status = wait_for(both_workers, 30, "both workers online")
        assert hub_status["peers"]["listener"] == 1
        assert hub_status["jobs"]["failed"] == 0
    finally:
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(10) == 0
