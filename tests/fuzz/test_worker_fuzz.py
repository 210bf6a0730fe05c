"""Hostile input to a real worker from a fake hub: garbage on its control and jobs sockets.

The worker listens on nothing; what it takes in comes from the hub it connects to. A fake
hub (ROUTER and PULL, driven by the test) sends random frames and protocol-shaped messages
with hostile bodies on the control channel, and jobs there too (those of four frames with
the session's MAC, so that their bodies reach the worker's checks). After each case a probe
job must be answered (refused when busy, then failed: its series is not in SiriDB), every
message the worker sends must decode, and at the end a real training job succeeds.
"""

from __future__ import annotations

import itertools
import signal
import time

import pytest
import zmq
from hypothesis import given
from hypothesis import strategies as st

from protocol.envelope import Codec, Message, mac_hex
from protocol.session import new_nonce, session_key
from protocol.types import MessageType
from scripts.siridb_dev.testing import DevServer
from tests.fuzz.cases import fuzz_settings, tried
from tests.fuzz.strategies import frames, schema_bodies, wire_values
from tests.integration.test_worker_harness import WorkerProcess, job, seasonal_points, siridb
from tests.support.waiting import wait_for

REAL = "fuzz.real"
_ids = itertools.count(1)
JOB_TYPES = ["TRAIN_MODEL", "FIT_MODEL", "FORECAST_SERIE"]
WORKER_SENDS = frozenset({MessageType.JOB_ACCEPTED, MessageType.JOB_REFUSED,
                          MessageType.JOB_RESULT, MessageType.JOB_FAILED})


class ScriptedHub:
    """The hub's two worker sockets on random ports, served by the test's own thread."""

    def __init__(self) -> None:
        self.ctx = zmq.Context()
        self.codec = Codec("fuzz-hub")
        self.control = self._bind(zmq.ROUTER)
        self.results = self._bind(zmq.PULL)
        self.peer: bytes | None = None
        self.key = b""
        self.sessions = 0  # handshakes answered: a job sent before the last one is lost

    def _bind(self, kind: int) -> zmq.Socket:
        sock = self.ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.bind("tcp://127.0.0.1:0")
        return sock

    def port(self, name: str) -> int:
        """The port one socket is bound on (what WorkerProcess asks)."""
        sock = getattr(self, name)
        return int(sock.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])

    def serve_control(self) -> None:
        """Answer what the worker said on the control channel (a sane hub's answers)."""
        while self.control.poll(0):
            route, *rest = self.control.recv_multipart()
            msg = self.codec.decode(rest)  # the worker only ever sends valid messages
            self.peer = route
            if msg.type is MessageType.HANDSHAKE:
                nonce = new_nonce()
                self.key = session_key("", msg.body["client_id"], msg.body["nonce"], nonce)
                self.sessions += 1
                self.send_control(self.codec.encode(Message(MessageType.HANDSHAKE_OK, {
                    "hub_id": "fuzz", "heartbeat_interval": 0.5, "liveness": 20,
                    "nonce": nonce}, reply_to=msg.id)))

    def send_control(self, frames: list[bytes]) -> None:
        if self.peer is not None:
            try:
                self.control.send_multipart([self.peer, *(frames or [b""])], zmq.NOBLOCK)
            except zmq.ZMQError:
                pass  # the worker reconnected: a new identity shows up with its handshake

    def push_job(self, frames: list[bytes]) -> None:
        """Send a job on the control channel, with the session's MAC when it has 4 frames."""
        if len(frames) == 4:
            tag, signature, header, body = frames
            frames = [tag, signature + b"." + mac_hex(self.key, header, body), header, body]
        self.send_control(frames)

    def outcome(self, job_id: str, timeout: float = 20.0, series: str = "fuzz.absent") -> Message:
        """Serve the session until job_id's JOB_FAILED or JOB_RESULT; send it again if refused
        or if a new session began since (the worker drops a job MACed in an older one)."""
        deadline = time.monotonic() + timeout
        sessions = self.sessions
        while time.monotonic() < deadline:
            self.serve_control()
            if self.sessions != sessions:
                sessions = self.sessions
                self.push_job(self.codec.encode(Message(MessageType.TRAIN_MODEL,
                                                        job(job_id, series))))
            if not self.results.poll(50):
                continue
            msg = self.codec.decode(self.results.recv_multipart())
            assert msg.type in WORKER_SENDS, msg
            if msg.body["job_id"] != job_id or msg.type is MessageType.JOB_ACCEPTED:
                continue
            if msg.type is MessageType.JOB_REFUSED:  # busy with a fuzz job: again later
                self.push_job(self.codec.encode(Message(MessageType.TRAIN_MODEL,
                                                        job(job_id, series))))
                continue
            return msg
        raise AssertionError(f"no outcome for {job_id} within {timeout}s")

    def close(self) -> None:
        self.ctx.destroy(linger=0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    hub = ScriptedHub()
    db = DevServer(dbname="dbtest").start()
    siridb(db.port, ("insert", {REAL: seasonal_points(200)}))
    worker = WorkerProcess(tmp_path_factory.mktemp("worker-fuzz"), hub, db.port)
    wait_for(lambda: hub.serve_control() or hub.peer, 60, "the worker's handshake")
    yield hub, worker
    worker.stop(signal.SIGKILL)
    hub.close()
    db.close()


def framed(kind: str, body: bytes) -> list[bytes]:
    """A message of kind with a raw body, in the protocol's frames (unsigned)."""
    header = b'{"type":"%s","id":"m%d","reply_to":null,"sender":"h"}' % (kind.encode(),
                                                                        next(_ids))
    return [b"ENODO/1", b"", header, body]


def hostile_jobs() -> st.SearchStrategy:
    """A job as frames: valid layout with a job type and a hostile body, or any frames."""
    shaped = st.sampled_from(JOB_TYPES).flatmap(
        lambda kind: schema_bodies(kind).map(lambda body: framed(kind, body)))
    valid_ids = st.builds(
        lambda kind, settings, state: Codec("h").encode(Message(MessageType(kind), {
            **job(f"fz{next(_ids)}", f"fuzz.absent.{next(_ids)}"), "settings": settings,
            "state": state})),
        st.sampled_from(JOB_TYPES),
        st.dictionaries(st.sampled_from(["horizon", "interval_level", "max_points",
                                         "max_job_duration"]),
                        st.integers(-5, 10**6) | st.floats(-1e6, 1e6) | wire_values),
        st.none() | st.dictionaries(st.text(max_size=6), wire_values, max_size=3),
    )
    return shaped | valid_ids | frames


def control_garbage() -> st.SearchStrategy:
    """What a broken hub may say on the control channel."""
    kinds = st.sampled_from(["HANDSHAKE_OK", "HANDSHAKE_FAIL", "UNKNOWN_CLIENT", "SHUTDOWN",
                             "ERROR", "HEARTBEAT", "RESPONSE_OK", "UPDATE_SERIES",
                             "TRAIN_MODEL", "API_REQUEST"])
    return kinds.flatmap(lambda k: schema_bodies(k).map(lambda b: framed(k, b))) | frames


def worker_property(setup, examples: int) -> None:
    hub, worker = setup

    @fuzz_settings(examples)
    @given(control=st.lists(control_garbage(), max_size=2),
           jobs=st.lists(hostile_jobs(), max_size=2))
    def feed(control, jobs):
        for message in control:
            hub.send_control(message)
        for message in jobs:
            hub.push_job(message)
        probe = f"probe-{next(_ids)}"
        hub.push_job(hub.codec.encode(Message(MessageType.TRAIN_MODEL,
                                              job(probe, "fuzz.absent"))))
        outcome = hub.outcome(probe)
        assert outcome.type is MessageType.JOB_FAILED, outcome
        assert worker.proc.poll() is None, worker.log_tail()
        tried("worker control DEALER (from a fake hub)", len(control))
        tried("worker jobs (control, from a fake hub)", len(jobs))

    feed()
    # Still a worker: a real job trains a real model.
    hub.serve_control()
    hub.push_job(hub.codec.encode(Message(MessageType.TRAIN_MODEL, job("real", REAL))))
    outcome = hub.outcome("real", timeout=60, series=REAL)
    assert outcome.type is MessageType.JOB_RESULT, outcome.body
    assert outcome.body["result"]["count"] == 200


def test_worker_survives_a_hostile_hub(setup):
    worker_property(setup, 40)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_worker_survives_a_hostile_hub_deep(setup):
    worker_property(setup, 3000)
