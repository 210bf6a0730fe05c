"""Hub side of per-series accuracy: a TRAIN result's accuracy is stored and served."""

from __future__ import annotations

import pytest

from actors.hub.actions import run_action
from protocol.errors import ProtocolError
from protocol.types import MessageType
from tests.support.hub_state import FakeClock, FakeJobs, counts, make_state, result, worker
from tests.support.hub_state import add_series as add

ACCURACY = {
    "horizon": 24, "origins": 3, "level": 0.95, "period": 24,
    "model": {"name": "auto:ets", "mase": 0.61, "smape": 4.2, "coverage": 0.93},
    "baseline": {"name": "seasonal_naive", "mase": 1.0, "smape": 6.9, "coverage": 0.97},
}


@pytest.fixture
def hub(tmp_path):
    clock = FakeClock()
    state = make_state(tmp_path, clock=clock)
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=10)
    return state, scheduler, jobs, clock


def train(hub, accuracy):
    state, scheduler, jobs, clock = hub
    add(state)
    worker(state)
    counts(state, 10)
    scheduler.dispatch(clock.now)
    job = jobs.sent[-1]
    assert job.type is MessageType.TRAIN_MODEL
    body = {"kind": "train", "state": {"model": "auto"}, "count": 10}
    if accuracy is not None:
        body["accuracy"] = accuracy
    scheduler.on_result(result(job, MessageType.JOB_ACCEPTED))
    scheduler.on_result(result(job, MessageType.JOB_RESULT, result=body))
    return state


def test_accuracy_of_a_train_result_is_stored_and_served(hub):
    state = train(hub, ACCURACY)
    stored = state.store.get_output("s", "accuracy")
    assert stored == {**ACCURACY, "measured_at": state.wall()}
    served = run_action(state, "get_accuracy", {"name": "s"})
    assert served["name"] == "s"
    assert served["model"] == ACCURACY["model"]
    assert served["baseline"]["mase"] == 1.0
    assert served["measured_at"] == stored["measured_at"]


def test_no_accuracy_yet(hub):
    state = train(hub, None)
    assert state.store.get_output("s", "accuracy") is None
    assert run_action(state, "get_accuracy", {"name": "s"}) == {
        "name": "s", "measured_at": None, "model": None, "baseline": None,
    }


def test_unknown_series(hub):
    state, *_ = hub
    with pytest.raises(ProtocolError):
        run_action(state, "get_accuracy", {"name": "nope"})
