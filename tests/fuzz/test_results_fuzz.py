"""Hostile results for real jobs: a fake worker takes the hub's jobs and answers garbage.

The hub dispatches real jobs (train, then forecast) to a fake worker that handshook (and so
holds a session key: its results pass the MAC check and reach the result checks), which
accepts each and answers a hypothesis-drawn JOB_RESULT or JOB_FAILED: results shaped like the real
ones with wrong types, lengths and values. After each, every read of the series must
still be answered (no `internal`), and the process must be up.
"""

from __future__ import annotations

import itertools
import time

import pytest
import zmq
from hypothesis import given
from hypothesis import strategies as st

from protocol.envelope import Message
from protocol.jobs import JOB_TYPES
from protocol.session import new_nonce, session_key
from protocol.types import MessageType
from tests.fuzz.cases import fuzz_settings, tried
from tests.fuzz.peers import LogTail, RawPeer, hub_token, with_token
from tests.fuzz.strategies import wire_values as json_values
from tests.support.hub import HubProcess, Peer

NAME = "fuzz/results"
WORKER = "fuzz-worker"
_ids = itertools.count(1)

numbers = st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
sometimes_junk = numbers | json_values


@st.composite
def forecasts(draw: st.DrawFn) -> object:
    """A forecast: usually four lists of numbers (lengths may differ), sometimes junk."""
    if draw(st.integers(0, 5)) == 0:
        return draw(json_values)
    size = draw(st.integers(0, 5))
    forecast = {key: draw(st.lists(numbers, min_size=size, max_size=size))
                for key in ("timestamps", "mean", "lower", "upper")}
    for key in draw(st.lists(st.sampled_from(sorted(forecast)), max_size=2)):
        forecast[key] = draw(st.lists(sometimes_junk, max_size=6) | json_values)
    if draw(st.booleans()):
        forecast["level"] = draw(sometimes_junk)
    return forecast


anomalies = st.lists(st.fixed_dictionaries({"timestamp": numbers}, optional={
    "value": numbers, "expected": numbers, "lower": numbers, "upper": numbers,
    "score": sometimes_junk,
}) | json_values, max_size=4) | json_values


@st.composite
def results(draw: st.DrawFn, kind: str) -> dict:
    """A result for a job of kind: shaped like the real one, with hostile contents."""
    if kind in ("TRAIN_MODEL", "FIT_MODEL"):
        result = {"state": draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3)
                                | json_values)}
    else:
        result = {"forecast": draw(forecasts()), "anomalies": draw(anomalies),
                  "summary": draw(json_values)}
    if draw(st.integers(0, 5)) == 0:
        del result[draw(st.sampled_from(sorted(result)))]
    result.update(draw(st.fixed_dictionaries({}, optional={
        "count": st.integers(0, 10**6) | sometimes_junk, "accuracy": json_values,
        "points": sometimes_junk})))
    return result


class FakeWorker:
    """A worker's two sockets and its session key, driven by the test."""

    def __init__(self, hub: HubProcess) -> None:
        self.token = hub_token(hub)
        self.control = RawPeer(hub.address("control"), identity=WORKER.encode())
        self.results = RawPeer(hub.address("results"), zmq.PUSH)
        self.key: bytes | None = None
        self.jobs: list[Message] = []  # jobs read from the control socket, not yet taken

    def hello(self) -> None:
        nonce = new_nonce()
        answer, before = self.control.request(Message(MessageType.HANDSHAKE, with_token({
            "client_id": WORKER, "client_type": "worker", "version": "fuzz", "protocol": 1,
            "capacity": 1, "models": ["arima"], "nonce": nonce}, self.token)))
        assert answer.type is MessageType.HANDSHAKE_OK
        self.key = session_key(self.token or "", WORKER, nonce, answer.body["nonce"])
        self.jobs += [m for m in before if m.type in JOB_TYPES]

    def next_job(self, timeout: float) -> Message | None:
        deadline = time.monotonic() + timeout
        while not self.jobs:
            left = deadline - time.monotonic()
            if left <= 0 or not self.control.sock.poll(left * 1000):
                return None
            msg = self.control.codec.decode(self.control.sock.recv_multipart())
            if msg.type in JOB_TYPES:
                self.jobs.append(msg)
        return self.jobs.pop(0)

    def send(self, kind: MessageType, body: dict) -> None:
        self.results.send_raw(self.results.codec.encode(
            Message(kind, {"worker_id": WORKER, **body}), self.key))

    def close(self) -> None:
        for peer in (self.control, self.results):
            peer.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("results-fuzz"),
                     extra={"ENODO_HUB_HEARTBEAT_INTERVAL": "2"}).start()
    with Peer(hub.address("control"), "fuzz-admin", "client") as admin:
        assert admin.handshake().type is MessageType.HANDSHAKE_OK
        assert admin.api("add_series", name=NAME).type is MessageType.RESPONSE_OK
        assert admin.api("set_settings", settings={"max_attempts": 1}).type \
            is MessageType.RESPONSE_OK
    yield hub
    hub.stop()


def results_property(hub: HubProcess, examples: int) -> None:
    worker = FakeWorker(hub)
    admin = Peer(hub.address("control"), "fuzz-admin", "client")
    log = LogTail(hub.log_path)

    def api(action: str, **params) -> Message:
        answer = admin.api(action, **params)
        if answer.type is MessageType.UNKNOWN_CLIENT:
            assert admin.handshake().type is MessageType.HANDSHAKE_OK
            answer = admin.api(action, **params)
        return answer

    @fuzz_settings(examples)
    # Both shapes are drawn up front: which one is sent depends on the job the hub sends.
    @given(model_result=results("TRAIN_MODEL"), forecast_result=results("FORECAST_SERIE"),
           fail=st.integers(0, 5), retry=st.booleans())
    def feed(model_result, forecast_result, fail, retry):
        worker.hello()  # also after the hub forgot a silent fake worker
        job = worker.next_job(0.1)  # the hub pushes a follow-up job in the turn it takes a result
        if job is None:
            queued = api("queue_job", name=NAME, job_type="forecast")
            if queued.type is MessageType.ERROR:  # conflict: not trained yet
                queued = api("queue_job", name=NAME, job_type="train")
            assert queued.type is MessageType.RESPONSE_OK, queued.body
            job = worker.next_job(5)
        assert job is not None, "the hub dispatched no job"
        job_id = job.body["job_id"]
        forecasting = job.type is MessageType.FORECAST_SERIE
        result = forecast_result if forecasting else model_result
        worker.send(MessageType.JOB_ACCEPTED, {"job_id": job_id})
        if fail == 0:
            worker.send(MessageType.JOB_FAILED, {"job_id": job_id, "error": "fuzz",
                                                 "retry": retry})
        else:
            worker.send(MessageType.JOB_RESULT, {"job_id": job_id, "result": result})
        probe = f"fuzz-probe-{next(_ids)}"
        worker.send(MessageType.JOB_FAILED, {"job_id": probe, "error": "probe"})
        log.wait_for(f"for job {probe}")
        for action in ("get_series", "get_forecast", "get_anomalies"):
            answer = api(action, name=NAME)
            assert answer.type is MessageType.RESPONSE_OK, (action, answer.body, result)
        assert api("list_series").type is MessageType.RESPONSE_OK
        assert hub.proc.poll() is None
        tried("hub results PULL (real jobs)")

    try:
        feed()
    finally:
        worker.close()
        admin.close()


def test_hostile_results_of_real_jobs(hub):
    results_property(hub, 40)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_hostile_results_of_real_jobs_deep(hub):
    results_property(hub, 1500)
