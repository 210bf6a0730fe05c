"""The tee connection dropped: SiriDB loses inserts, the hub finds them with select count().

Real processes: the SiriDB development server with its tee pointed at the listener, the hub
(reconciling every second), the listener and gunicorn. The listener is stopped and started
again: SiriDB's copies of the inserts made while it is down, and of the insert that opens
the tee connection again, are lost; the hub's count from SiriDB shows them as drift in
GET /series/{name}.
"""

from __future__ import annotations

import signal

import pytest

from api.routing import series_path
from tests.integration.test_worker_harness import siridb
from tests.support.stack import Stack
from tests.support.waiting import wait_for

NAME = "tee/lossy 'x'"


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=0, listener=True, api=True)
    try:
        yield stack.start()
    finally:
        stack.close()


def insert(stack: Stack, first: int, count: int) -> None:
    points = [[1_700_000_000_000 + i * 1000, float(i)] for i in range(first, first + count)]
    siridb(stack.db.port, ("insert", {NAME: points}))


def test_points_the_tee_lost_show_as_drift_after_reconciliation(stack):
    def detail() -> dict:
        status, _, body = stack.api.request("GET", series_path(NAME))
        assert status == 200
        return body

    siridb(stack.db.port, ("insert", {"primer": [[1, 1]]}))  # opens the tee: not forwarded
    stack.client.call("set_settings", settings={"reconcile_interval": 1.0,
                                                "min_data_points": 1000})
    assert stack.api.request("POST", "/series", {"name": NAME})[0] == 201
    insert(stack, 0, 10)
    wait_for(lambda: detail()["points_counted"] == 10, 30, "10 points counted via the tee")
    wait_for(lambda: detail()["points_siridb"] == 10, 30, "SiriDB's count")
    assert detail()["drift"] == 0

    stack.listener.stop(signal.SIGTERM)
    insert(stack, 10, 3)              # the listener is down: SiriDB's copy goes nowhere
    stack.listener.start()
    stack.wait_online(workers=0, listeners=1, timeout=30)
    insert(stack, 13, 5)              # opens the tee connection again: not forwarded either
    insert(stack, 18, 7)              # forwarded
    wait_for(lambda: detail()["points_counted"] == 17, 30, "the forwarded points counted")

    def reconciled() -> dict | None:
        # A count read while the listener's report of the forwarded points was still on its
        # way shows those as drift too, until the next count (docs/design.md): wait for a
        # count read after all 17 were counted (points, SiriDB's count plus the points counted
        # since it was read, is then SiriDB's count).
        body = detail()
        return body if body["points_siridb"] == 25 and body["points"] == 25 else None

    body = wait_for(reconciled, 30, "the hub to count 25 points in SiriDB after the 17 counted")
    assert (body["drift"], body["points"], body["points_counted"]) == (8, 25, 17)
    assert all(stack.alive().values())
