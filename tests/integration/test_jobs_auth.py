"""Jobs and results belong to a session: forged, misattributed and duplicate workers lose.

A real hub on loopback; its workers are test peers (real DEALER and PUSH sockets) that
handshake as a worker does, so the test decides when each answers. What a hostile peer
sends has the right shape and the right job id: only the session MAC tells it apart.
"""

from __future__ import annotations

import re
import signal
import time

import pytest
import zmq

from protocol.envelope import Codec, Message
from protocol.jobs import JOB_TYPES
from protocol.session import verify
from protocol.types import MessageType
from tests.support.hub import HubProcess, Peer
from tests.support.stack import HubClient
from tests.support.waiting import free_port, wait_for
from tests.support.worker import WorkerProcess

NAME = "demo.co2"
FORGED_FORECAST = {"timestamps": [1_700_000_000_000], "mean": [666.0], "lower": [666.0],
                   "upper": [666.0]}
COLD_START = {"forecast": None, "anomalies": [], "events": [], "detector": None}
FORGED_DETECTOR = {"last_ts": 9 * 10**18, "flags": [], "deviations": [], "quiet": 0,
                   "event": None}


class TestWorker:
    """A worker's control session (a Peer) and results PUSH socket, driven by the test."""

    __test__ = False

    def __init__(self, hub: HubProcess, worker_id: str, **hello: str) -> None:
        self.id = worker_id
        self.peer = Peer(hub.address("control"), worker_id, "worker")
        answer = self.peer.handshake(**hello)
        assert answer.type is MessageType.HANDSHAKE_OK, answer.body
        self.results = zmq.Context.instance().socket(zmq.PUSH)
        self.results.setsockopt(zmq.LINGER, 0)
        self.results.connect(hub.address("results"))
        self._last_beat = 0.0

    def beat(self) -> None:
        """Heartbeat (at most every 0.5 s), as a live worker does."""
        if time.monotonic() - self._last_beat > 0.5:
            self.peer.channel.send(Message(MessageType.HEARTBEAT, {"busy": False}))
            self._last_beat = time.monotonic()

    def job(self, timeout: float = 10.0) -> Message:
        """The next job the hub sends this session (its MAC checked)."""
        def arrived() -> Message | None:
            self.beat()
            if not self.peer.channel.socket.poll(50):
                return None
            msg = self.peer.channel.recv().msg
            return msg if msg.type in JOB_TYPES else None

        job = wait_for(arrived, timeout, f"a job for {self.id}")
        assert verify(self.peer.session_key, job), "a job without this session's MAC"
        return job

    def send(self, kind: MessageType, body: dict, key: bytes | None | str = "own",
             worker_id: str | None = None) -> None:
        """Send a JOB_* message, MACed under key ("own": this session's; None: no MAC)."""
        key = self.peer.session_key if key == "own" else key
        msg = Message(kind, {"worker_id": worker_id or self.id, **body})
        self.results.send_multipart(Codec(worker_id or self.id).encode(msg, key))

    def close(self) -> None:
        self.results.close(linger=0)
        self.peer.close()


@pytest.fixture
def hub(tmp_path):
    hub = HubProcess(tmp_path, extra={"ENODO_HUB_HEARTBEAT_INTERVAL": "1"}).start()
    yield hub
    hub.stop(signal.SIGKILL)


def forecast_job(client: HubClient, worker: TestWorker) -> Message:
    """Train NAME through worker (a model state), then return the forecast job it gets."""
    client.call("add_series", name=NAME, model="arima")
    client.call("queue_job", name=NAME, job_type="train")
    train = worker.job()
    assert train.type is MessageType.TRAIN_MODEL
    worker.send(MessageType.JOB_ACCEPTED, {"job_id": train.body["job_id"]})
    worker.send(MessageType.JOB_RESULT, {"job_id": train.body["job_id"],
                                         "result": {"state": {"m": 1}}})
    forecast = worker.job()
    assert forecast.type is MessageType.FORECAST_SERIE
    worker.send(MessageType.JOB_ACCEPTED, {"job_id": forecast.body["job_id"]})
    return forecast


def test_forged_and_misattributed_results_are_ignored(hub):
    client = HubClient(hub)
    owner, other = TestWorker(hub, "worker-a"), TestWorker(hub, "worker-b")
    try:
        job = forecast_job(client, owner)
        job_id = job.body["job_id"]
        forged = {"job_id": job_id, "result": {
            "forecast": FORGED_FORECAST, "detector": FORGED_DETECTOR,
            "anomalies": [{"timestamp": 1_700_000_000_000, "value": "<script>x</script>"}]}}
        before = client.status()["jobs"]
        owner.send(MessageType.JOB_RESULT, forged, key=None)          # no MAC, as worker-a
        owner.send(MessageType.JOB_RESULT, forged, key=b"guess" * 8)  # a guessed key
        other.send(MessageType.JOB_RESULT, forged)                    # worker-b's own, not its job
        other.send(MessageType.JOB_RESULT, forged, worker_id="worker-a")  # b's MAC, a's name
        other.send(MessageType.JOB_FAILED, {"job_id": job_id, "error": "forged", "retry": False},
                   worker_id="worker-a")
        wait_for(lambda: client.status()["jobs"]["forged_results"] == before["forged_results"] + 5,
                 10, "the hub to drop five forged results")
        assert client.call("get_forecast", name=NAME)["points"] == []
        assert client.call("get_anomalies", name=NAME)["anomalies"] == []
        series = client.series(NAME)
        assert series["jobs"]["forecast"]["state"] == "running"
        assert series["jobs"]["forecast"]["worker"] == "worker-a"
        assert client.status()["jobs"]["failed"] == before["failed"]
        assert "dropped a forged JOB_RESULT" in hub.log_path.read_text()

        # The worker the dispatch went to is heard: its forecast, not 666.
        real = {"timestamps": [1_700_000_000_000, 1_700_000_060_000], "mean": [400.0, 401.0],
                "lower": [399.0, 400.0], "upper": [401.0, 402.0]}
        owner.send(MessageType.JOB_RESULT, {"job_id": job_id, "result": {
            "forecast": real, "anomalies": [], "detector": None}})
        wait_for(lambda: client.call("get_forecast", name=NAME)["points"], 10, "the forecast")
        means = [p["mean"] for p in client.call("get_forecast", name=NAME)["points"]]
        assert means == [400.0, 401.0]
        assert hub.proc.poll() is None
    finally:
        owner.close()
        other.close()
        client.close()


def test_a_session_that_never_handshook_gets_no_job(hub):
    client = HubClient(hub)
    # Sockets that connect to every hub port and take what comes: none is a session.
    ctx = zmq.Context.instance()
    rogues = []
    for address in (hub.address(name) for name in hub.ports):
        for kind in (zmq.PULL, zmq.DEALER):
            for _ in range(10):
                sock = ctx.socket(kind)
                sock.setsockopt(zmq.LINGER, 0)
                sock.connect(address)
                rogues.append(sock)
    refused = Peer(hub.address("control"), "refused", "worker", token="wrong")
    assert refused.handshake().type is MessageType.HANDSHAKE_FAIL
    worker = TestWorker(hub, "worker-a")
    try:
        client.call("add_series", name=NAME)
        for _ in range(5):  # ten jobs in a row: each reaches the one real worker at once
            client.call("queue_job", name=NAME, job_type="train")
            for kind, result in ((MessageType.TRAIN_MODEL, {"state": {"m": 1}}),
                                 (MessageType.FORECAST_SERIE, COLD_START)):
                job = worker.job(timeout=2)
                assert job.type is kind
                worker.send(MessageType.JOB_RESULT, {"job_id": job.body["job_id"],
                                                     "result": result})
        wait_for(lambda: client.status()["jobs"]["done"] == 10, 5, "ten jobs done")
        assert not any(sock.poll(0) for sock in rogues), "a rogue socket received something"
        assert not refused.channel.socket.poll(0)
        assert client.status()["jobs"]["failed"] == 0
    finally:
        for sock in rogues:
            sock.close(linger=0)
        refused.close()
        worker.close()
        client.close()


def test_a_second_worker_with_the_same_id_is_refused_and_the_first_keeps_its_job(hub, tmp_path):
    client = HubClient(hub)
    first = TestWorker(hub, "twin-1", instance="first-process")
    second = WorkerProcess(tmp_path, hub.ports, free_port(), 1, extra={
        "ENODO_WORKER_WORKER_ID": "twin", "ENODO_WORKER_RECONNECT_MIN": "0.1",
        "ENODO_WORKER_RECONNECT_MAX": "0.5"})
    try:
        client.call("add_series", name=NAME)
        client.call("queue_job", name=NAME, job_type="train")
        job = first.job()
        first.send(MessageType.JOB_ACCEPTED, {"job_id": job.body["job_id"]})
        second.start()

        def refused_twice() -> bool:
            first.beat()
            return second.log_path.read_text().count("conflict: worker id 'twin-1'") >= 2

        wait_for(refused_twice, 60, "the second worker refused (twice: it retries)")
        assert "refused a second worker with id 'twin-1'" in hub.log_path.read_text()
        status = client.status()
        assert status["peers"]["worker"] == 1 and status["jobs"]["running"] == 1
        assert client.series(NAME)["jobs"]["train"]["state"] == "running"
        events = client.call("event_log", limit=1000)["events"]
        assert [e["kind"] for e in events if "twin-1" in e["message"]] == ["client_online"]
        first.send(MessageType.JOB_RESULT, {"job_id": job.body["job_id"],
                                            "result": {"state": {"m": 1}}})
        wait_for(lambda: client.series(NAME)["jobs"]["train"]["state"] == "done", 10, "done")
        assert not re.search(r"job \S+: (train|fit|forecast)", second.log_path.read_text())
        assert client.status()["jobs"]["done"] == 1

        # The first goes away: the second takes the id once, and stays.
        first.peer.channel.send(Message(MessageType.SHUTDOWN, {"reason": "test"}))
        wait_for(lambda: "handshake with hub" in second.log_path.read_text(), 30,
                 "the second worker admitted")
        assert second.proc.poll() is None and client.status()["peers"]["worker"] == 1
    finally:
        second.stop(signal.SIGKILL)
        first.close()
        client.close()
