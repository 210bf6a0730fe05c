"""The same attacks on a whole stack of real processes, with nothing but sockets and the API.

SiriDB (development server, each select answered late so a job is caught while it runs),
a hub and real workers. The attacker knows the job id (from the worker's log: what a
sniffer on the wire would see) and the worker's id; it has no token.
"""

from __future__ import annotations

import re

import pytest
import zmq

from protocol.envelope import Codec, Message
from protocol.types import MessageType
from tests.integration.test_worker_harness import seasonal_points, siridb
from tests.support.stack import Stack
from tests.support.waiting import wait_for
from tests.support.worker import WorkerProcess

NAME = "demo.co2"
HORIZON = 6


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=1, select_delay=1.5)
    try:
        yield stack.start()
    finally:
        stack.close()


def running_job_id(stack: Stack, worker_id: str, kind: str) -> str:
    """The id of the job of this kind the worker runs now, from its log."""
    def found() -> str | None:
        if stack.job(NAME, kind)["state"] != "running":
            return None
        ids = re.findall(rf"job (\S+): {kind} ", stack.worker(worker_id).log_path.read_text())
        return ids[-1] if ids else None

    return wait_for(found, 60, f"the {kind} running")


def test_a_forged_result_without_a_session_changes_no_forecast(stack):
    siridb(stack.db.port, ("insert", {NAME: seasonal_points(200)}))
    stack.client.call("set_settings", settings={"min_data_points": 100, "horizon": HORIZON})
    stack.client.call("add_series", name=NAME, model="arima")
    worker_id = stack.workers[0].worker_id
    job_id = running_job_id(stack, worker_id, "forecast")
    forged = {"job_id": job_id, "worker_id": worker_id, "result": {
        "forecast": {"timestamps": [1_800_000_000_000 + i for i in range(HORIZON)],
                     "mean": [666.0] * HORIZON, "lower": [666.0] * HORIZON,
                     "upper": [666.0] * HORIZON},
        "anomalies": [], "events": [],
        "detector": {"last_ts": 9 * 10**18, "flags": [], "deviations": [], "quiet": 0,
                     "event": None}}}
    sock = zmq.Context.instance().socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(stack.hub.address("results"))
    try:
        for _ in range(3):
            sock.send_multipart(Codec(worker_id).encode(Message(MessageType.JOB_RESULT, forged)))
        wait_for(lambda: stack.job(NAME, "forecast")["state"] == "done", 60, "the forecast")
    finally:
        sock.close(linger=0)
    points = stack.client.call("get_forecast", name=NAME)["points"]
    assert len(points) == HORIZON and all(p["mean"] != 666.0 for p in points)
    assert stack.client.status()["jobs"]["failed"] == 0
    # Detection still works after it: a spike in the new points is found.
    last = seasonal_points(200)[-1][0]
    siridb(stack.db.port, ("insert", {NAME: [[last + 3_600_000, 500.0]]}))
    stack.client.call("queue_job", name=NAME, job_type="forecast")
    wait_for(lambda: stack.client.call("get_anomalies", name=NAME)["anomalies"], 60,
             "the spike judged anomalous")


def test_a_second_real_worker_with_the_same_id_is_refused(stack, tmp_path):
    first = stack.workers[0]
    siridb(stack.db.port, ("insert", {NAME: seasonal_points(200)}))
    stack.client.call("set_settings", settings={"min_data_points": 100, "horizon": HORIZON})
    stack.client.call("add_series", name=NAME, model="arima")
    running_job_id(stack, first.worker_id, "train")
    second = WorkerProcess(tmp_path / "second", stack.hub.ports, stack.db.port, first.index,
                           extra={"ENODO_WORKER_RECONNECT_MIN": "0.1",
                                  "ENODO_WORKER_RECONNECT_MAX": "0.5"})
    (tmp_path / "second").mkdir()
    second.start()
    try:
        wait_for(lambda: "conflict" in second.log_path.read_text(), 60,
                 "the second worker refused")
        wait_for(lambda: stack.job(NAME, "forecast")["state"] == "done", 60, "the forecast")
        events = stack.client.call("event_log", limit=1000)["events"]
        mine = [e["kind"] for e in events if first.worker_id in e["message"]]
        assert mine == ["client_online"], mine  # the first never replaced, never offline
        assert not re.search(r"job \S+: (train|fit|forecast)", second.log_path.read_text())
        assert stack.client.status()["jobs"]["late_results"] == 0
        assert second.proc.poll() is None and first.proc.poll() is None
    finally:
        second.stop()
