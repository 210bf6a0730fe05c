"""Scheduler: counts become jobs, jobs go to idle workers, leases, retries, late results."""

from __future__ import annotations

import pytest

from actors.hub.handlers import handle_control
from actors.hub.scheduler import ACCEPT_TIMEOUT
from protocol.envelope import Message
from protocol.types import MessageType
from tests.support.hub_state import (
    JOB_KEYS,
    FakeJobs,
    SaidSiriDB,
    counts,
    make_state,
    result,
    trained,
    worker,
)
from tests.support.hub_state import add_series as add


@pytest.fixture
def hub(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=10, fit_every=5, max_attempts=2)
    return state, scheduler, jobs


def test_enough_points_queue_a_train_sent_only_to_an_idle_worker(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    counts(state, 9)
    assert scheduler.active == {}
    counts(state, 1)
    assert scheduler.active["s"].kind == "train"
    scheduler.dispatch(clock.now)
    assert jobs.sent == []  # no worker known yet
    worker(state)
    scheduler.dispatch(clock.now)
    [job] = jobs.sent
    assert job.type is MessageType.TRAIN_MODEL and job.body["state"] is None
    assert state.series.get("s").jobs["train"]["state"] == "queued"
    scheduler.dispatch(clock.now)
    assert len(jobs.sent) == 1  # capacity 1 is taken


def test_train_result_stores_the_model_and_queues_a_forecast(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    train = jobs.sent[-1]
    scheduler.on_result(result(train, MessageType.JOB_ACCEPTED))
    assert state.series.get("s").jobs["train"]["state"] == "running"
    scheduler.on_result(result(train, MessageType.JOB_RESULT,
                               result={"kind": "train", "state": {"m": 1}, "count": 10}))
    assert state.store.get_model("s") == {"m": 1}
    assert state.series.get("s").jobs["train"]["state"] == "done"
    scheduler.dispatch(clock.now)
    forecast = jobs.sent[-1]
    assert forecast.type is MessageType.FORECAST_SERIE and forecast.body["state"] == {"m": 1}
    fc = {"timestamps": [1, 2], "mean": [1.0, 2.0], "lower": [0.0, 1.0], "upper": [2.0, 3.0],
          "level": 0.95}
    scheduler.on_result(result(forecast, MessageType.JOB_RESULT,
                               result={"kind": "forecast", "forecast": fc, "anomalies": [],
                                       "summary": {"horizon": 2}}))
    assert state.store.get_output("s", "forecast") == fc
    summary = state.series.get("s").last_forecast  # made by the hub, not taken from the worker
    assert summary == {"horizon": 2, "start": 1, "end": 2, "mean_first": 1.0, "mean_last": 2.0,
                       "anomalies": 0}
    counts(state, 5)
    assert scheduler.active["s"].kind == "fit"


def test_refused_job_goes_back_to_the_front(hub, clock):
    state, scheduler, jobs = hub
    add(state, "a")
    add(state, "b")
    worker(state)
    counts(state, 10, "a")
    counts(state, 10, "b")
    scheduler.dispatch(clock.now)
    first = jobs.sent[-1]
    assert first.body["series"] == "a"
    scheduler.on_result(result(first, MessageType.JOB_REFUSED, reason="busy"))
    scheduler.dispatch(clock.now)
    assert jobs.sent == [first]  # the worker said it is busy: nothing more until it is idle
    beat(state, busy=False)
    scheduler.dispatch(clock.now)
    again = jobs.sent[-1]
    assert again.body["series"] == "a" and again.body["job_id"] != first.body["job_id"]


def beat(state, busy, job_id=None, ident=b"W"):
    body = {"busy": busy, "job_id": job_id} if busy else {"busy": False}
    handle_control(state, ident, Message(MessageType.HEARTBEAT, body))


def test_a_worker_busy_with_a_job_the_hub_did_not_give_is_not_idle(hub, clock):
    # After a hub restart a worker may still run a job of the hub before: pushing to it
    # only brings refusals back, one per turn, until that job ends.
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    beat(state, busy=True, job_id="0123.1")
    counts(state, 10)
    scheduler.dispatch(clock.now)
    assert jobs.sent == [] and scheduler.stats()["idle_capacity"] == 0
    beat(state, busy=False)
    scheduler.dispatch(clock.now)
    [job] = jobs.sent
    beat(state, busy=True, job_id=job.body["job_id"])  # its own job is counted once
    assert scheduler.stats()["idle_capacity"] == 0 and scheduler.active["s"].status != "queued"


def test_soft_failure_retries_with_backoff_then_fails_for_good(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_FAILED, error="siridb down",
                               retry=True))
    scheduler.dispatch(clock.now)
    assert len(jobs.sent) == 1  # still backing off
    clock.now += 1.01
    scheduler.dispatch(clock.now)
    assert len(jobs.sent) == 2 and jobs.sent[-1].body["attempt"] == 1
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_FAILED, error="siridb down",
                               retry=True))
    train = state.series.get("s").jobs["train"]
    assert (train["state"], train["error"]) == ("failed", "siridb down")
    assert "s" not in scheduler.active


def test_soft_failures_do_not_use_up_attempts_while_the_hub_cannot_reach_siridb(hub, clock):
    state, scheduler, jobs = hub
    state.siridb = link = SaidSiriDB(status="failing", error="ConnectionRefusedError")
    add(state)
    worker(state)
    counts(state, 10)
    for attempt in range(4):  # max_attempts is 2
        clock.now += 60
        scheduler.dispatch(clock.now)
        assert jobs.sent[-1].body["attempt"] == attempt
        scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_FAILED,
                                   error="SiriDB unavailable", retry=True))
    train = state.series.get("s").jobs["train"]
    assert (train["state"], train["attempt"]) == ("queued", 4)
    link.said["status"] = "connected"  # SiriDB is back: this try counts again
    clock.now += 60
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_FAILED, error="bad", retry=True))
    assert state.series.get("s").jobs["train"]["state"] == "failed"


def test_expired_lease_requeues_and_the_late_result_is_dropped(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    stale = jobs.sent[-1]
    clock.now += ACCEPT_TIMEOUT + 0.1
    scheduler.expire_leases(clock.now)
    clock.now += 1.01
    scheduler.dispatch(clock.now)
    fresh = jobs.sent[-1]
    assert fresh.body["job_id"] != stale.body["job_id"]
    scheduler.on_result(result(stale, MessageType.JOB_RESULT,
                               result={"kind": "train", "state": {"old": 1}}))
    assert state.store.get_model("s") is None and scheduler.late == 1
    scheduler.on_result(result(fresh, MessageType.JOB_RESULT,
                               result={"kind": "train", "state": {"new": 1}}))
    assert state.store.get_model("s") == {"new": 1}


def test_departed_worker_jobs_are_requeued(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_ACCEPTED))
    handle_control(state, b"W", Message(MessageType.SHUTDOWN, {}))
    assert scheduler.active["s"].status == "queued"
    worker(state, b"V", "w2")
    scheduler.dispatch(clock.now)
    assert len(jobs.sent) == 2


def test_jobs_in_flight_survive_a_restart_queued(tmp_path, clock):
    _, restored, _, _ = _restart_with_a_running_train(tmp_path, clock)
    assert restored.active["s"].status == "queued" and restored.active["s"].kind == "train"


def test_queue_job_action(hub, clock):
    from actors.hub.actions import run_action
    from protocol.errors import ProtocolError

    state, scheduler, jobs = hub
    add(state)
    with pytest.raises(ProtocolError):
        run_action(state, "queue_job", {"name": "s", "job_type": "fit"})
    run_action(state, "queue_job", {"name": "s", "job_type": "train"})
    assert scheduler.active["s"].kind == "train"


def test_each_job_goes_to_one_idle_worker_over_its_own_session(hub, clock):
    state, scheduler, jobs = hub
    add(state, "a")
    add(state, "b")
    worker(state)
    worker(state, ident=b"V", wid="w2")
    counts(state, 10, "a")
    counts(state, 10, "b")
    scheduler.dispatch(clock.now)
    ja, jb = jobs.sent
    assert sorted(jobs.routes) == [b"V", b"W"]  # one each, addressed to its connection
    keys = {state.peers.get(r).client_id: state.peers.get(r).session_key for r in jobs.routes}
    assert JOB_KEYS[ja.body["job_id"]] != JOB_KEYS[jb.body["job_id"]]
    assert set(JOB_KEYS[m.body["job_id"]] for m in (ja, jb)) == set(keys.values())
    # A worker busy with something else refuses: it gets nothing until its next heartbeat.
    by_route = dict(zip(jobs.routes, jobs.sent, strict=True))
    scheduler.on_result(result(by_route[b"W"], MessageType.JOB_REFUSED, reason="busy"))
    scheduler.dispatch(clock.now)
    assert len(jobs.sent) == 2
    beat(state, busy=False)
    scheduler.dispatch(clock.now)
    assert len(jobs.sent) == 3 and jobs.routes[-1] == b"W"


def test_forged_and_misattributed_results_are_dropped_and_change_nothing(hub, clock):
    state, scheduler, jobs = hub
    add(state, "a")
    add(state, "b")
    worker(state)
    worker(state, ident=b"V", wid="w2")
    counts(state, 10, "a")
    counts(state, 10, "b")
    scheduler.dispatch(clock.now)
    to_w1 = dict(zip(jobs.routes, jobs.sent, strict=True))[b"W"]
    w2_key = state.peers.by_client_id("w2").session_key
    done = {"kind": "train", "state": {"m": 666}, "count": 10}
    forged = [
        result(to_w1, MessageType.JOB_RESULT, key=b"x" * 32, result=done),  # no session key
        result(to_w1, MessageType.JOB_RESULT, worker_id="w2", key=w2_key, result=done),  # not w2's
        result(to_w1, MessageType.JOB_RESULT, key=w2_key, result=done),  # w2 posing as w1
        result(to_w1, MessageType.JOB_FAILED, worker_id="nobody", key=b"x" * 32, error="x"),
    ]
    for msg in forged:
        scheduler.on_result(msg)
    unsigned = result(to_w1, MessageType.JOB_FAILED, error="forged", retry=False)
    unsigned.session_mac, unsigned.signed = b"", None
    scheduler.on_result(unsigned)
    name = to_w1.body["series"]
    assert state.store.get_model(name) is None and state.series.get(name).trained_at is None
    assert scheduler.active[name].status == "dispatched" and scheduler.active[name].attempt == 0
    assert scheduler.stats()["forged_results"] == 5 and scheduler.failed == 0
    scheduler.on_result(result(to_w1, MessageType.JOB_RESULT, result={**done, "state": {"m": 1}}))
    assert state.store.get_model(name) == {"m": 1} and scheduler.done == 1


def _restart_with_a_running_train(tmp_path, clock):
    """A hub whose worker w1 runs a train, restarted (state reopened); w1 back, idle w2 too."""
    state = make_state(tmp_path, clock=clock)
    scheduler = state.scheduler
    state.settings["min_data_points"] = 10
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    train = FakeJobs(state).sent[-1]
    scheduler.on_result(result(train, MessageType.JOB_ACCEPTED))
    state.flush()
    state.store.commit()
    again = make_state(tmp_path, clock=clock)
    jobs = FakeJobs(again)
    restored = again.scheduler
    worker(again)
    worker(again, b"W2", "w2")
    return again, restored, jobs, train


def _now_key(state, wid: str = "w1") -> bytes:
    """The key of the worker's session with the restarted hub (what it signs with now)."""
    return state.peers.by_client_id(wid).session_key


def test_a_job_a_worker_still_runs_after_a_hub_restart_is_adopted_not_run_twice(tmp_path, clock):
    state, scheduler, jobs, train = _restart_with_a_running_train(tmp_path, clock)
    scheduler.dispatch(clock.now)
    assert jobs.sent == []  # held back: w2 is idle, but w1 may still be running it
    beat(state, True, train.body["job_id"])  # w1's heartbeat names it
    scheduler.dispatch(clock.now)
    assert scheduler.active["s"].status == "running" and scheduler.active["s"].worker == "w1"
    assert state.series.get("s").jobs["train"]["state"] == "running"
    clock.now += 60
    scheduler.dispatch(clock.now)
    assert jobs.sent == []  # adopted: not sent again once the hold is over
    scheduler.on_result(result(train, MessageType.JOB_RESULT, key=_now_key(state),
                               result={"kind": "train", "state": {"m": 1}, "count": 10}))
    assert state.series.get("s").jobs["train"]["state"] == "done"
    assert (scheduler.done, scheduler.late) == (1, 0)


def test_a_result_from_before_a_hub_restart_is_taken_even_before_any_heartbeat(tmp_path, clock):
    state, scheduler, jobs, train = _restart_with_a_running_train(tmp_path, clock)
    # Only the worker it was given to may claim it: w2's result (in its own session) is not.
    scheduler.on_result(result(train, MessageType.JOB_RESULT, worker_id="w2",
                               key=_now_key(state, "w2"), result={"state": {"m": 2}}))
    assert state.store.get_model("s") is None and scheduler.stats()["forged_results"] == 1
    scheduler.on_result(result(train, MessageType.JOB_RESULT, key=_now_key(state),
                               result={"kind": "train", "state": {"m": 1}, "count": 10}))
    assert state.store.get_model("s") == {"m": 1}
    assert (scheduler.done, scheduler.late) == (1, 0)
    scheduler.dispatch(clock.now)
    assert [m.type for m in jobs.sent] == [MessageType.FORECAST_SERIE]


def test_a_job_nobody_reports_after_a_hub_restart_runs_again_after_the_hold(tmp_path, clock):
    state, scheduler, jobs, train = _restart_with_a_running_train(tmp_path, clock)
    clock.now += state.heartbeat_interval * state.liveness
    scheduler.dispatch(clock.now)
    [again] = jobs.sent
    assert again.type is MessageType.TRAIN_MODEL and again.body["job_id"] != train.body["job_id"]
    scheduler.on_result(result(train, MessageType.JOB_RESULT, key=_now_key(state),
                               result={"kind": "train", "state": {"m": 1}, "count": 10}))
    assert scheduler.late == 1  # the old run's result, once the job went out again


def test_a_flood_of_forged_results_costs_one_warning_per_interval(hub, clock, caplog):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    [job] = jobs.sent
    scheduler.forged.clock = clock
    for _ in range(1000):
        scheduler.on_result(result(job, MessageType.JOB_FAILED, key=b"x" * 32, error="x"))
    warnings = [r for r in caplog.records if "forged" in r.getMessage()]
    assert len(warnings) == 1 and scheduler.stats()["forged_results"] == 1000
    clock.now += 10
    scheduler.on_result(result(job, MessageType.JOB_FAILED, key=b"x" * 32, error="x"))
    warnings = [r.getMessage() for r in caplog.records if "forged" in r.getMessage()]
    assert len(warnings) == 2 and "999 more since the last warning" in warnings[-1]
    assert scheduler.active["s"].attempt == 0 and scheduler.failed == 0


def test_a_fit_that_fails_for_good_waits_fit_every_points_not_the_next_point(hub, clock):
    state, scheduler, jobs = hub
    trained(state, jobs, clock.now)
    scheduler.dispatch(clock.now)  # the forecast after the train
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_FAILED, error="x", retry=False))
    counts(state, 5)
    scheduler.dispatch(clock.now)
    fit = jobs.sent[-1]
    assert fit.type is MessageType.FIT_MODEL
    scheduler.on_result(result(fit, MessageType.JOB_FAILED, retry=False,
                               error="3 regular points after the last gap, need at least 10"))
    assert state.series.get("s").jobs["fit"]["state"] == "failed"
    for _ in range(4):
        counts(state, 1)
        assert "s" not in scheduler.active  # not one failing fit per new point
    counts(state, 1)
    assert scheduler.active["s"].kind == "fit"


def test_a_cold_start_detection_that_fails_for_good_waits_fit_every_points(hub, clock):
    state, scheduler, jobs = hub
    state.settings.update(min_data_points=1000)  # no train: cold-start detection only
    add(state)
    worker(state)
    counts(state, 100)
    assert scheduler.active["s"].kind == "forecast"
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_FAILED, error="x", retry=False))
    counts(state, 4)
    assert "s" not in scheduler.active
    counts(state, 1)
    assert scheduler.active["s"].kind == "forecast"
