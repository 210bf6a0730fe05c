"""docs/deploy.md on several hosts: network namespaces made by the test stand for the hosts.

The hub host runs the hub (bound to its own address) and the REST API, the SiriDB host the
development SiriDB with a listener beside it, two worker hosts a worker each: each host its
own supervisord with the shipped files (configs/supervisord/, configs/deploy/), CURVE on,
the hub's public key and token copied to the peers as the guide says. A series' forecast is
made end to end; then the host of the worker running a job is unplugged, and the job is done
by the worker of the other host. Root only (it makes namespaces); skipped otherwise.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from siridb.connector import SiriDBClient

from api.routing import series_path
from tests.integration.test_worker_harness import seasonal_points
from tests.support import netns
from tests.support.deployment import DATABASE, SIRIDB_PORT, Deployment

REASON = netns.unavailable()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""),
              pytest.mark.timeout(180)]

FIRST, SECOND = "site/boiler 'A'", "site/boiler 'B'"
HORIZON = 12
SELECT_DELAY = 1.0  # every select answered 1 s late: a job is caught while it runs


def siridb(dep: Deployment, call: str, arg: Any) -> Any:
    """A query or an insert on the SiriDB host, from the test's own address."""
    async def run() -> Any:
        client = SiriDBClient("iris", "siri", DATABASE, [(dep.db_host.address, SIRIDB_PORT)])
        await client.connect()
        try:
            return await (client.query(arg) if call == "query" else client.insert(arg))
        finally:
            client.close()

    return asyncio.run(asyncio.wait_for(run(), 30))


@pytest.fixture
def deployment(tmp_path):
    network = netns.Network()
    dep = None
    try:
        dep = Deployment(tmp_path, network, ["w1", "w2"], SELECT_DELAY).start()
        yield dep
    finally:
        if dep is not None:
            dep.close()
        network.close()


def job(dep: Deployment, name: str, kind: str) -> dict[str, Any]:
    status, body = dep.rest("GET", series_path(name))
    assert status == 200, body
    return body["jobs"][kind]


def test_a_forecast_across_hosts_and_a_cut_off_worker_host(deployment):
    dep = deployment
    hub = dep.hosts["hub"]

    def peers_online() -> bool:
        status, body = dep.rest("GET", "/enodo/status")
        return status == 200 and body["peers"] == {**body["peers"], "worker": 2, "listener": 1}

    dep.wait(peers_online, 45, "2 workers and the listener online at the hub, over CURVE")
    clients = {c["client_id"]: c for c in dep.hub_action("console_clients")["clients"]}
    # Each peer reached the hub from its own host's address.
    assert clients["w1-0"]["address"] == dep.network.hosts["w1"].address
    assert clients["w2-0"]["address"] == dep.network.hosts["w2"].address
    listener = next(c for c in clients.values() if c["client_type"] == "listener")
    assert listener["address"] == dep.db_host.address
    assert dep.rest("GET", "/ready")[0] == 200  # the hub reaches the SiriDB host too
    assert dep.rest("POST", "/settings", {"min_data_points": 100, "horizon": HORIZON})[0] == 200

    # 1. A forecast end to end: history in SiriDB, the series added over REST, a worker on
    # another host trains and forecasts, reading SiriDB's host and writing its results there.
    siridb(dep, "insert", {FIRST: seasonal_points(300)})  # also opens the tee (not forwarded)
    assert dep.rest("POST", "/series", {"name": FIRST, "model": "seasonal_naive"})[0] == 201
    dep.wait(lambda: job(dep, FIRST, "forecast")["state"] == "done", 45, "the first forecast")
    status, forecast = dep.rest("GET", series_path(FIRST) + "/forecast")
    assert status == 200 and len(forecast["points"]) == HORIZON
    written = siridb(dep, "query", f"select * from 'enodo.{FIRST.replace(chr(39), 2 * chr(39))}"
                                   f".forecast'")
    assert len(written[f"enodo.{FIRST}.forecast"]) == HORIZON

    # Points inserted now reach the hub through SiriDB's tee and the listener beside it.
    siridb(dep, "insert", {FIRST: seasonal_points(330)[300:]})
    dep.wait(lambda: dep.rest("GET", series_path(FIRST))[1]["points_counted"] == 30, 20,
             "the listener's counts of the 30 new points at the hub")

    # 2. A worker host cut off mid-job: its worker goes silent, the hub drops it after
    # liveness x heartbeat_interval and the job is done by the worker of the other host.
    siridb(dep, "insert", {SECOND: seasonal_points(300)})
    assert dep.rest("POST", "/series", {"name": SECOND, "model": "seasonal_naive"})[0] == 201

    def running() -> str | None:
        train = job(dep, SECOND, "train")
        return train["worker"] if train["state"] == "running" else None

    victim = dep.wait(running, 30, "a worker to run the train")
    victim_host = dep.network.hosts[victim.removesuffix("-0")]
    dep.network.cut(victim_host)
    dep.wait(lambda: job(dep, SECOND, "forecast")["state"] == "done", 45,
             "the train and forecast done by the worker of the other host")
    train = job(dep, SECOND, "train")
    assert train["state"] == "done" and train["worker"] not in (None, victim)
    clients = {c["client_id"]: c["online"] for c in dep.hub_action("list_clients")["clients"]}
    assert clients[victim] is False and clients[train["worker"]] is True
    status, forecast = dep.rest("GET", series_path(SECOND) + "/forecast")
    assert status == 200 and len(forecast["points"]) == HORIZON
    assert "Traceback" not in hub.log("hub")
