"""Workers that die or stall in the middle of a job: the job is done elsewhere, exactly once.

Real processes: the SiriDB development server (every select answered late, so a job can be
caught while it runs), a hub and two workers, shared by the tests of this module (each test
has its own series and leaves two workers online). The hub shows which worker runs a job
(`jobs.<kind>.worker` of GET /series/{name}); that worker is then killed or stopped.
"""

from __future__ import annotations

import re
import signal

import pytest

from tests.integration.test_worker_harness import seasonal_points, siridb
from tests.support.stack import Stack
from tests.support.waiting import wait_for

KILLED = "plant/boiler 'b'"
STOPPED = "plant/boiler 'c'"
HORIZON = 12
SELECT_DELAY = 1.0  # seconds: every job reads at least once, so it runs >= 1 s


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("faults-worker"), workers=2,
                  select_delay=SELECT_DELAY)
    try:
        yield stack.start()
    finally:
        stack.close()


def running_worker(stack: Stack, name: str, kind: str) -> str:
    """Wait until a worker runs the series' job of this kind; return its id."""
    def holder() -> str | None:
        job = stack.job(name, kind)
        return job["worker"] if job["state"] == "running" else None

    return wait_for(holder, 30, f"a worker to run the {kind}")


def model_child_pid(stack: Stack, worker_id: str) -> int:
    """The pid of the worker's current model child, from its log."""
    text = stack.worker(worker_id).log_path.read_text()
    return int(re.findall(r"model child (\d+) ready", text)[-1])


def gone(pid: int) -> bool:
    """True when the process has ended (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def outputs(port: int, name: str) -> dict[str, list]:
    """What SiriDB holds of the series' outputs: {suffix: points}."""
    prefix = "enodo." + name.replace("'", "''")
    queries = [("query", f"select * from '{prefix}.{kind}'")
               for kind in ("forecast", "lower", "upper", "anomalies")]
    replies = siridb(port, *queries)
    out = {}
    for kind, reply in zip(("forecast", "lower", "upper", "anomalies"), replies, strict=True):
        out[kind] = reply.get(f"enodo.{name}.{kind}", [])
    return out


def start_series(stack: Stack, name: str) -> dict:
    """History in SiriDB, settings, the series added; return the hub's job counters."""
    siridb(stack.db.port, ("insert", {name: seasonal_points(300)}))
    stack.client.call("set_settings", settings={"min_data_points": 100, "horizon": HORIZON,
                                                "max_job_duration": 60})
    stack.wait_online(workers=2)
    before = stack.client.status()["jobs"]
    stack.client.call("add_series", name=name, model="arima")
    return before


def test_killed_worker_job_is_redone_by_another_with_one_output(stack):
    before = start_series(stack, KILLED)
    client = stack.client

    # 1. Killed while training: the job goes back to the queue and the other worker does it.
    victim = running_worker(stack, KILLED, "train")
    child = model_child_pid(stack, victim)
    stack.worker(victim).stop(signal.SIGKILL)
    wait_for(lambda: gone(child), 1, "the dead worker's model child to end with it")
    stack.add_worker(stack.worker(victim).index)  # as supervisord would
    wait_for(lambda: stack.job(KILLED, "forecast")["state"] == "done", 60, "the first forecast")
    assert stack.job(KILLED, "train")["worker"] != victim
    stack.wait_online(workers=2)

    # 2. Killed while forecasting, after writing nothing or everything: one result either way.
    # The new points lie inside the first forecast's range, far off it: anomalies to judge.
    spikes = [[ts, value + 100.0] for ts, value in seasonal_points(306)[300:]]
    siridb(stack.db.port, ("insert", {KILLED: spikes}))
    client.call("queue_job", name=KILLED, job_type="forecast")
    victim = running_worker(stack, KILLED, "forecast")
    child = model_child_pid(stack, victim)
    stack.worker(victim).stop(signal.SIGKILL)
    wait_for(lambda: gone(child), 1, "the dead worker's model child to end with it")
    stack.add_worker(stack.worker(victim).index)

    def redone() -> dict | None:
        job = stack.job(KILLED, "forecast")
        return job if job["state"] == "done" and job["worker"] != victim else None

    wait_for(redone, 60, "the forecast redone by the other worker")
    anomalies = client.call("get_anomalies", name=KILLED)["anomalies"]
    assert sorted(a["timestamp"] for a in anomalies) == [ts for ts, _ in spikes]
    assert len(client.call("get_forecast", name=KILLED)["points"]) == HORIZON
    written = outputs(stack.db.port, KILLED)
    assert {k: len(v) for k, v in written.items()} == {
        "forecast": HORIZON, "lower": HORIZON, "upper": HORIZON, "anomalies": len(spikes)}
    assert sorted(ts for ts, _ in written["anomalies"]) == [ts for ts, _ in spikes]
    jobs = client.status()["jobs"]
    assert jobs["done"] - before["done"] == 3  # train, forecast, forecast: each once
    assert jobs["failed"] == before["failed"] and jobs["late_results"] == before["late_results"]
    assert all(stack.alive().values())


def test_stopped_worker_loses_its_job_and_its_late_result_is_dropped(stack):
    before = start_series(stack, STOPPED)
    client = stack.client
    victim = running_worker(stack, STOPPED, "train")
    process = stack.worker(victim).proc
    process.send_signal(signal.SIGSTOP)
    try:
        # Silent for liveness x heartbeat_interval: the hub drops it and re-queues its job.
        wait_for(lambda: not stack.online()[victim], 10, "the hub to drop the stopped worker")

        def trained_elsewhere() -> bool:
            job = stack.job(STOPPED, "train")
            return job["state"] == "done" and job["worker"] != victim

        wait_for(trained_elsewhere, 30, "the train done by the other worker")
        assert client.status()["jobs"]["late_results"] == before["late_results"]
    finally:
        process.send_signal(signal.SIGCONT)
    # Its model child went on and finished: the result arrives, for a dispatch that is over.
    wait_for(lambda: client.status()["jobs"]["late_results"] == before["late_results"] + 1,
             20, "the stopped worker's result to arrive late and be dropped")
    stack.wait_online(workers=2)  # it handshakes again by itself
    wait_for(lambda: stack.job(STOPPED, "forecast")["state"] == "done", 30, "the forecast")
    train = stack.job(STOPPED, "train")
    assert train["state"] == "done" and train["worker"] != victim
    jobs = client.status()["jobs"]
    assert (jobs["done"] - before["done"], jobs["failed"] - before["failed"]) == (2, 0)
    assert len(outputs(stack.db.port, STOPPED)["forecast"]) == HORIZON
    assert all(stack.alive().values())
