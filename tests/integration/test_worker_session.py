"""A real worker process and a fake hub: session upkeep, SiriDB unreachable, SIGTERM."""

from __future__ import annotations

import signal

import pytest

from protocol.envelope import Message
from protocol.types import MessageType
from tests.integration.test_worker_harness import FakeHub, WorkerProcess, job
from tests.support.waiting import free_port, wait_for


@pytest.fixture(scope="module")
def hub():
    fake = FakeHub(heartbeat_interval=0.2, liveness=3)
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def worker(tmp_path_factory, hub):
    # Nothing listens on this port: SiriDB is unreachable for every job.
    process = WorkerProcess(tmp_path_factory.mktemp("worker"), hub, free_port())
    try:
        hub.expect_control(MessageType.HANDSHAKE, timeout=30)
    except AssertionError:
        process.stop(signal.SIGKILL)
        raise AssertionError("worker did not handshake:\n" + process.log_tail()) from None
    yield process
    if process.proc.poll() is None:
        process.stop(signal.SIGKILL)


def test_siridb_unreachable_fails_with_retry(hub, worker):
    hub.push(MessageType.TRAIN_MODEL, job("u1", "cpu"))
    assert hub.result().type is MessageType.JOB_ACCEPTED
    failed = hub.outcome("u1")
    assert failed.type is MessageType.JOB_FAILED
    assert failed.body["retry"] is True and "SiriDB unavailable" in failed.body["error"]


def test_unknown_client_and_hub_shutdown_lead_to_a_new_handshake(hub, worker):
    hub.expect_control(MessageType.HEARTBEAT, timeout=5)
    hub.outbox.put(Message(MessageType.UNKNOWN_CLIENT, {"message": "who are you"}))
    hub.expect_control(MessageType.HANDSHAKE, timeout=5)
    hub.outbox.put(Message(MessageType.SHUTDOWN, {"reason": "hub stopping"}))
    hub.expect_control(MessageType.HANDSHAKE, timeout=5)
    assert hub.expect_control(MessageType.HEARTBEAT, timeout=5).body["busy"] is False


def test_silent_hub_is_left_and_handshaken_again(hub, worker):
    hub.expect_control(MessageType.HEARTBEAT, timeout=5)
    hub.silent.set()
    try:
        # After liveness x interval (0.6 s) without a word, the worker starts a new session.
        wait_for(lambda: any(m.type is MessageType.HANDSHAKE for m in hub.dropped), 10,
                 "a new HANDSHAKE while the hub is silent")
    finally:
        hub.silent.clear()
    hub.expect_control(MessageType.HANDSHAKE, timeout=10)
    assert hub.expect_control(MessageType.HEARTBEAT, timeout=5)
    assert worker.proc.poll() is None


def test_sigterm_says_shutdown_and_exits_zero(hub, worker):
    hub.expect_control(MessageType.HEARTBEAT, timeout=5)
    worker.proc.send_signal(signal.SIGTERM)
    assert hub.expect_control(MessageType.SHUTDOWN, timeout=10).body == {
        "reason": "worker stopping"
    }
    assert worker.proc.wait(10) == 0
