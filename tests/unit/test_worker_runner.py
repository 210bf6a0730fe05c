"""The model child's handle: results over the pipe, time limit kill, crash, fresh child.

The child here is a light stand-in (no model imports) speaking the same pipe protocol, so
each spawn costs a fraction of a second.
"""

from __future__ import annotations

import os
import time

import pytest
import zmq

from actors.worker.config import SiriDBSettings
from actors.worker.runner import ChildConfig, ModelRunner

SETTINGS = SiriDBSettings("127.0.0.1", 1, "iris", "siri", "dbtest")
CONFIG = ChildConfig(SETTINGS, SETTINGS, chunk_points=10, siridb_timeout=1.0)


def stand_in_child(conn, config) -> None:
    """Answer jobs by their body: sleep, crash, or echo."""
    conn.send(("ready", ["echo"], os.getpid()))
    while True:
        try:
            _, kind, body = conn.recv()
        except EOFError:
            return
        if body.get("crash"):
            os._exit(3)
        time.sleep(body.get("sleep", 0))
        conn.send(("done", body["job_id"], {"ok": True, "result": {"kind": kind}}))


@pytest.fixture
def runner():
    poller = zmq.Poller()
    handle = ModelRunner(CONFIG, poller, start_timeout=20, target=stand_in_child)
    handle.start()
    yield handle, poller
    handle.stop(grace=1.0)


def events_until(runner, poller, kinds, timeout=20.0):
    """Poll the child's pipe like the worker loop does until an event of kinds arrives."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        due, events = runner.due()
        seen += events
        wait = min(deadline, due or deadline) - time.monotonic()
        ready = dict(poller.poll(max(0.0, min(wait, 0.5)) * 1000))
        if runner.fd is not None and runner.fd in ready:
            seen += runner.on_readable()
        if any(e.kind in kinds for e in seen):
            return seen
    raise AssertionError(f"no {kinds} event within {timeout}s (saw {seen})")


def test_ready_then_result(runner):
    handle, poller = runner
    events_until(handle, poller, {"ready"})
    assert handle.models == ["echo"] and not handle.busy
    handle.submit("train", {"job_id": "a"}, max_duration=10)
    assert handle.busy
    [done] = [e for e in events_until(handle, poller, {"done"}) if e.kind == "done"]
    assert done.job.job_id == "a" and done.outcome == {"ok": True, "result": {"kind": "train"}}
    assert not handle.busy


def test_job_past_its_limit_is_killed_and_a_fresh_child_serves_the_next(runner):
    handle, poller = runner
    events_until(handle, poller, {"ready"})
    first_pid = handle.process.pid
    handle.submit("train", {"job_id": "slow", "sleep": 30}, max_duration=0.3)
    started = time.monotonic()
    [timeout] = [e for e in events_until(handle, poller, {"timeout"}) if e.kind == "timeout"]
    assert timeout.job.job_id == "slow" and time.monotonic() - started < 5
    handle.submit("fit", {"job_id": "next"}, max_duration=10)
    events = events_until(handle, poller, {"done"})
    assert [e.job.job_id for e in events if e.kind == "done"] == ["next"]
    assert handle.process.pid != first_pid


def test_crash_is_reported_and_the_child_restarted(runner):
    handle, poller = runner
    events_until(handle, poller, {"ready"})
    handle.submit("train", {"job_id": "boom", "crash": True}, max_duration=10)
    [crashed] = [e for e in events_until(handle, poller, {"crashed"}) if e.kind == "crashed"]
    assert crashed.job.job_id == "boom" and crashed.outcome == {"exitcode": 3}
    assert not handle.busy
    events_until(handle, poller, {"ready"})
