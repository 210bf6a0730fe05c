"""The hub SIGKILLed under load and started again: nothing it acknowledged is lost.

Real processes: the SiriDB development server (selects answered late, so jobs are out when
the hub dies), the hub, a listener fed through SiriDB's tee, two workers and gunicorn. While
points flow and jobs run, a REST client adds series and changes a setting; the hub is killed
in the middle of a job and started again on the same ports and data_dir.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from api.routing import series_path
from tests.integration.test_worker_harness import seasonal_points, siridb
from tests.support.stack import Stack
from tests.support.waiting import wait_for

SERIES = [f"load/host-{i}" for i in range(3)]
STEP = 3_600_000


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=2, listener=True, api=True, select_delay=0.3)
    try:
        yield stack.start()
    finally:
        stack.close()


class Load:
    """Threads that insert points through SiriDB and make REST changes, keeping receipts."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.stop = threading.Event()
        self.inserted = dict.fromkeys(SERIES, 0)
        self.next_point = dict.fromkeys(SERIES, 300)
        self.added: list[str] = []        # series whose POST /series got 201
        self.horizons: list[int] = []     # horizons whose POST /settings got 200
        self.refused = 0                  # requests answered 503 (the hub away)
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._insert, daemon=True),
                        threading.Thread(target=self._rest, daemon=True)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _insert(self) -> None:
        while not self.stop.wait(0.05):
            for name in SERIES:
                first = self.next_point[name]
                points = [[ts, v + 3.0] for ts, v in seasonal_points(first + 2)[first:]]
                try:
                    siridb(self.stack.db.port, ("insert", {name: points}))
                except Exception as exc:  # noqa: BLE001 - kept and asserted on
                    self.errors.append(f"insert: {exc!r}")
                    continue
                self.inserted[name] += len(points)
                self.next_point[name] = first + len(points)

    def _rest(self) -> None:
        api, number = self.stack.api, 0
        while not self.stop.wait(0.02):
            number += 1
            name, horizon = f"added/{number}", 10 + number
            try:
                status, _, _ = api.request("POST", "/series", {"name": name}, timeout=10)
                if status == 201:
                    self.added.append(name)
                status, _, _ = api.request("POST", "/settings", {"horizon": horizon},
                                           timeout=10)
                if status == 200:
                    self.horizons.append(horizon)
            except OSError as exc:
                self.errors.append(f"rest: {exc!r}")
                continue
            if status == 503:
                self.refused += 1
            elif status != 200:
                self.errors.append(f"rest: HTTP {status}")


def busy_job(stack: Stack) -> tuple[str, str] | None:
    """(series, kind) of a job a worker runs now, or None."""
    for series in stack.client.call("list_series")["series"]:
        for kind, state in series["jobs"].items():
            if state == "running" and series["name"] in SERIES:
                return series["name"], kind
    return None


def test_hub_killed_under_load_comes_back_with_everything_acknowledged(stack):
    # Open SiriDB's tee first: the insert that connects it is not forwarded.
    siridb(stack.db.port, ("insert", {"primer": [[1, 1]]}))
    siridb(stack.db.port, ("insert", {name: seasonal_points(300) for name in SERIES}))
    client = stack.client
    client.call("set_settings", settings={"min_data_points": 100, "fit_every": 4,
                                          "reconcile_interval": 3600})
    for name in SERIES:
        client.call("add_series", name=name, model="arima")
    for name in SERIES:
        wait_for(lambda n=name: stack.job(n, "forecast")["state"] == "done", 60,
                 f"the first forecast of {name}")

    with Load(stack) as load:
        in_flight = wait_for(lambda: busy_job(stack), 30, "a job running")
        wait_for(lambda: load.added and load.horizons, 10, "acknowledged REST changes")
        stack.hub.stop(signal.SIGKILL)
        killed_at = time.time()
        acked_before = len(load.added)
        wait_for(lambda: load.refused > 0, 10, "the REST API to answer 503")
        stack.hub.start()
        wait_for(lambda: len(load.added) > acked_before, 30, "REST changes acknowledged again")
        stack.wait_online(workers=2, listeners=1, timeout=30)
    assert not load.errors, load.errors[:5]
    print(f"REST: {len(load.added)} series and {len(load.horizons)} settings acknowledged, "
          f"{load.refused} requests answered 503; points inserted: {sum(load.inserted.values())}")

    # Every acknowledged change is there.
    names = {s["name"] for s in client.call("list_series")["series"]}
    assert set(load.added) <= names and set(SERIES) <= names
    assert client.call("get_settings")["horizon"] >= load.horizons[-1]
    for name in SERIES:
        detail = client.series(name)
        assert detail["trained_at"] is not None
        assert client.call("get_forecast", name=name)["points"]
        # Counts: delivered at least once (a count applied but not acknowledged comes again).
        wait_for(lambda n=name: client.series(n)["points_counted"] >= load.inserted[n], 20,
                 f"every point of {name} counted")

    # Queued jobs came back, the one out when the hub died was queued again: all end done.
    def settled() -> bool:
        return all(j["state"] in ("none", "done") for name in SERIES
                   for j in client.series(name)["jobs"].values())

    wait_for(settled, 60, "every job queued or out at the crash to be done")
    name, kind = in_flight
    assert client.series(name)["jobs"][kind]["updated_at"] > killed_at
    for name in SERIES:  # one forecast in SiriDB, though jobs ran again after the crash
        quoted = f"enodo.{name}.forecast".replace("'", "''")
        [reply] = siridb(stack.db.port, ("query", f"select * from '{quoted}'"))
        stamps = [ts for ts, _ in reply[f"enodo.{name}.forecast"]]
        assert stamps and len(stamps) == len(set(stamps))
    status, _, hub_status = stack.api.request("GET", "/enodo/status")
    assert status == 200 and hub_status["jobs"]["failed"] == 0
    status, _, detail = stack.api.request("GET", series_path(SERIES[0]))
    assert status == 200 and detail["name"] == SERIES[0]
    assert all(stack.alive().values())


@pytest.mark.slow
def test_a_worker_busy_across_a_hub_restart_is_not_flooded_with_jobs(tmp_path):
    # The restarted hub used to push the job its worker still ran to that busy worker, turn
    # after turn, each refused at once (280 refusals in 8 s); then it ran the job again and
    # dropped the first run's result. Now the worker's heartbeat names the job: adopted.
    stack = Stack(tmp_path, workers=1, select_delay=4.0)
    try:
        stack.start()
        siridb(stack.db.port, ("insert", {"slow": seasonal_points(300)}))
        stack.client.call("set_settings", settings={"min_data_points": 100})
        stack.client.call("add_series", name="slow")
        wait_for(lambda: stack.job("slow", "train")["state"] == "running", 30, "the train")
        stack.hub.stop(signal.SIGKILL)
        stack.hub.start()
        wait_for(lambda: stack.job("slow", "forecast")["state"] == "done", 90, "the forecast")
        jobs = stack.client.status()["jobs"]
        assert (jobs["done"], jobs["failed"], jobs["late_results"]) == (2, 0, 0)
        log = stack.workers[0].log_path.read_text()
        assert log.count("refusing job") <= 1, "jobs refused"
        assert log.count(": train 'slow'") == 1  # the train ran once, across the restart
    finally:
        stack.close()
