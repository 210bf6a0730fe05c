"""A worker fed a flood of malformed jobs writes a burst of warnings, not one per job.

The limit comes from setup_logging (actors/common/logs.py), as in every actor: this test
checks it holds in a real worker process, on the path a hostile hub would send jobs by
(the worker's control session).
"""

from __future__ import annotations

import signal

import pytest

from actors.common.logs import REPEAT_BURST
from protocol.envelope import Message
from protocol.types import MessageType
from scripts.siridb_dev.testing import DevServer
from tests.fuzz.test_worker_fuzz import ScriptedHub
from tests.integration.test_worker_harness import WorkerProcess, job
from tests.support.waiting import wait_for

FLOOD = 500


@pytest.fixture
def setup(tmp_path):
    hub = ScriptedHub()
    db = DevServer(dbname="dbtest").start()
    worker = WorkerProcess(tmp_path, hub, db.port)
    wait_for(lambda: hub.serve_control() or hub.peer, 60, "the worker's handshake")
    yield hub, worker
    worker.stop(signal.SIGKILL)
    hub.close()
    db.close()


def test_malformed_jobs_are_counted_not_each_written(setup):
    hub, worker = setup
    for n in range(FLOOD):
        hub.push_job([b"garbage %d" % n])
    # Same pipe, same order: the probe's outcome means every garbage job was read.
    hub.push_job(hub.codec.encode(Message(MessageType.TRAIN_MODEL, job("probe", "absent"))))
    assert hub.outcome("probe", timeout=60).type is MessageType.JOB_FAILED
    written = worker.log_path.read_text().count("bad message from the hub")
    assert written == REPEAT_BURST, written
