"""Credit: a worker announcing capacity N holds up to N jobs; leases cover the wait."""

from __future__ import annotations

import pytest

from actors.hub.handlers import handle_control
from actors.hub.job_book import LEASE_GRACE
from protocol.types import MessageType
from tests.support.hub_state import FakeJobs, counts, hello, make_state, result
from tests.support.hub_state import add_series as add


@pytest.fixture
def hub(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=10, max_job_duration=100)
    for name in ("a", "b", "c"):
        add(state, name)
        counts(state, 10, name)
    return state, scheduler, jobs


def test_a_worker_with_credit_two_gets_a_running_and_a_ready_job_and_no_third(hub, clock):
    state, scheduler, jobs = hub
    handle_control(state, b"W", hello("w1", "worker", capacity=2))
    scheduler.dispatch(clock.now)
    assert [m.body["series"] for m in jobs.sent] == ["a", "b"]
    assert scheduler.stats()["idle_capacity"] == 0
    scheduler.on_result(result(jobs.sent[0], MessageType.JOB_RESULT,
                               result={"kind": "train", "state": {"m": 1}, "count": 10}))
    scheduler.dispatch(clock.now)  # one credit back: the next job goes out at once
    assert [m.body["series"] for m in jobs.sent] == ["a", "b", "c"]


def test_a_lease_covers_the_runs_of_every_job_the_worker_holds(hub, clock):
    state, scheduler, jobs = hub
    handle_control(state, b"W", hello("w1", "worker", capacity=2))
    scheduler.dispatch(clock.now)
    first, second = jobs.sent
    scheduler.on_result(result(first, MessageType.JOB_ACCEPTED))
    scheduler.on_result(result(second, MessageType.JOB_ACCEPTED))
    leases = [scheduler.by_job_id[m.body["job_id"]].lease_until - clock.now
              for m in (first, second)]
    # Either may run second (behind the other's full max_job_duration).
    assert leases == [200 + LEASE_GRACE, 200 + LEASE_GRACE]


def test_a_dead_worker_holding_credit_gives_back_every_job(hub, clock):
    state, scheduler, jobs = hub
    handle_control(state, b"W", hello("w1", "worker", capacity=2))
    scheduler.dispatch(clock.now)
    for sent in jobs.sent:
        scheduler.on_result(result(sent, MessageType.JOB_ACCEPTED))
    clock.now += state.heartbeat_interval * state.liveness + 0.1
    for peer in state.peers.expired(clock.now):
        state.drop_peer(peer, "silent")
    assert [scheduler.active[n].status for n in ("a", "b")] == ["queued", "queued"]
    handle_control(state, b"V", hello("w2", "worker", capacity=2))
    scheduler.dispatch(clock.now)
    again = zip(jobs.sent[2:], jobs.routes[2:], strict=True)
    assert sorted((m.body["series"], route) for m, route in again) == [("a", b"V"), ("b", b"V")]
