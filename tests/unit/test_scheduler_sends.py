"""Jobs leave through the state's outbox (sent after the turn's commit), and a lost send."""

from __future__ import annotations

import pytest

from actors.hub.handlers import handle_control
from protocol.envelope import Message
from protocol.types import MessageType
from tests.support.hub_state import FakeJobs, counts, hello, make_state
from tests.support.hub_state import add_series as add


@pytest.fixture
def state(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    state.settings.update(min_data_points=10)
    return state


def test_a_job_waits_in_the_outbox_behind_its_workers_welcome(state, clock):
    add(state)
    counts(state, 10)
    handle_control(state, b"W", hello("w1", "worker"))  # one turn: handshake, then timers
    state.scheduler.dispatch(clock.now)
    sent = [(item.identity, item.msg.type) for item in state.outbox.take()]
    # Nothing went out yet: the server sends both after the commit, welcome first (the
    # worker can check the job's MAC only once it has the hub's nonce).
    assert sent == [(b"W", MessageType.HANDSHAKE_OK), (b"W", MessageType.TRAIN_MODEL)]
    job = state.scheduler.active["s"]
    assert job.status == "dispatched" and job.worker == "w1"
    assert state.series.get("s").jobs["train"]["worker"] == "w1"


def test_a_job_the_socket_refuses_goes_to_another_worker(state, clock):
    jobs = FakeJobs(state)
    add(state)
    counts(state, 10)
    handle_control(state, b"W", hello("w1", "worker"))
    jobs.connected = False  # w1 is gone (or its pipe is full) by the time the job is sent
    state.scheduler.dispatch(clock.now)
    assert jobs.sent == []
    job = state.scheduler.active["s"]
    assert (job.status, job.worker, job.dispatches) == ("queued", None, 0)
    assert state.peers.by_client_id("w1").busy_jobs == set()
    jobs.connected = True
    state.scheduler.dispatch(clock.now)
    assert jobs.sent == []  # w1 counts busy until its next heartbeat says otherwise
    handle_control(state, b"V", hello("w2", "worker"))
    state.scheduler.dispatch(clock.now)
    [sent] = jobs.sent
    assert jobs.routes == [b"V"] and sent.body["job_id"].endswith(".1")
    handle_control(state, b"W", Message(MessageType.HEARTBEAT, {"busy": False}))
    assert state.peers.by_client_id("w1").free(state.scheduler.by_job_id) == 1


def test_a_job_too_large_to_send_fails_and_says_why(state, clock):
    jobs = FakeJobs(state, max_size=200)  # the job's body does not fit
    add(state)
    counts(state, 10)
    handle_control(state, b"W", hello("w1", "worker"))
    state.scheduler.dispatch(clock.now)
    assert jobs.sent == []
    train = state.series.get("s").jobs["train"]
    assert train["state"] == "failed" and "job could not be sent" in train["error"]
    assert "s" not in state.scheduler.active and state.scheduler.failed == 1
