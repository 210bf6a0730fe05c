"""Hub side of anomaly detection: settings checked on add, cold start, events kept and pushed."""

from __future__ import annotations

import pytest

from actors.hub.actions import run_action
from actors.hub.handlers import handle_control
from actors.hub.scheduler import JOB_SETTINGS
from actors.worker.detector import DEFAULT_SENSITIVITY
from protocol.envelope import Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.types import MessageType
from tests.support.hub_state import FakeJobs, counts, hello, make_state, result, worker


@pytest.fixture
def hub(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=100, fit_every=10)
    return state, scheduler, jobs


def add(state, name="s", **extra):
    return run_action(state, "add_series", {"name": name, **extra})


def test_anomaly_settings_are_checked_stored_and_shown(hub):
    state, _, _ = hub
    detail = add(state, anomaly={"direction": "above", "k": 2, "n": 3, "sensitivity": 1e-3,
                                 "views": ["seasonal", "forecast"]})
    expected = {"direction": "above", "min_deviation": 0.0, "k": 2, "n": 3, "event_gap": 100,
                "sensitivity": 1e-3, "views": ["seasonal", "forecast"], "combine": None}
    assert detail["anomaly"] == expected
    assert state.series.get("s").config()["anomaly"] == expected
    shown = add(state, "t")["anomaly"]
    assert shown["direction"] == "both"  # defaults when not given
    # The decision knobs stay unset, so the series follows the hub's (and the shipped) default.
    assert shown["sensitivity"] is None and shown["views"] is None and shown["combine"] is None


def test_the_global_anomaly_sensitivity_is_a_checked_setting_sent_with_forecasts(hub):
    state, _, _ = hub
    assert state.settings["anomaly_sensitivity"] == DEFAULT_SENSITIVITY
    with pytest.raises(ProtocolError):
        run_action(state, "set_settings", {"settings": {"anomaly_sensitivity": 0.9}})
    after = run_action(state, "set_settings", {"settings": {"anomaly_sensitivity": 1e-6}})
    assert after["anomaly_sensitivity"] == 1e-6
    assert "anomaly_sensitivity" in JOB_SETTINGS


@pytest.mark.parametrize(
    ("anomaly", "message"),
    [
        ({"direction": "sideways"}, "anomaly: direction must be one of both, above, below"),
        ({"k": 4, "n": 3}, "anomaly: k must not exceed n"),
        ({"min_deviation": "1"}, "anomaly: min_deviation must be a finite number >= 0"),
        ({"window": 5}, "anomaly: unknown key 'window'"),
        ({"sensitivity": 0.7}, "anomaly: sensitivity must be a probability"),
        ({"sensitivity": True}, "anomaly: sensitivity must be a probability"),
        ({"views": ["tea leaves"]}, "anomaly: views must be a non-empty list"),
        ({"views": []}, "anomaly: views must be a non-empty list"),
        ({"combine": "all"}, "anomaly: combine must be one of any, consensus"),
    ],
)
def test_bad_anomaly_settings_are_refused_and_nothing_is_added(hub, anomaly, message):
    state, _, _ = hub
    with pytest.raises(ProtocolError) as info:
        add(state, anomaly=anomaly)
    assert info.value.code is ErrorCode.INVALID and info.value.message.startswith(message)
    assert "s" not in state.series


def test_anomaly_settings_that_are_not_an_object_are_refused(hub):
    state, _, _ = hub
    with pytest.raises(ProtocolError) as info:
        add(state, anomaly=[1])
    assert info.value.code is ErrorCode.INVALID


def test_settings_survive_a_restart(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    add(state, anomaly={"min_deviation": 2.5})
    state.flush()
    state.store.commit()
    again = make_state(tmp_path, clock=clock)
    assert again.series.get("s").anomaly["min_deviation"] == 2.5


def test_series_without_a_model_gets_cold_start_detection(hub, clock):
    state, scheduler, jobs = hub
    add(state, anomaly={"direction": "below"})
    worker(state)
    counts(state, 19)
    assert scheduler.active == {}  # fewer points than the cold start needs
    counts(state, 1)
    scheduler.dispatch(clock.now)
    [job] = jobs.sent
    assert job.type is MessageType.FORECAST_SERIE and job.body["state"] is None
    assert job.body["settings"]["anomaly"]["direction"] == "below"
    assert job.body["context"]["detector"] is None
    detector = {"last_ts": 20, "flags": [1], "views": {"residuals": [], "errors": []},
                "quiet": 0, "event": None}
    event = {"id": 20, "start": 20, "end": 20, "peak": 4.0, "peak_ts": 20, "points": 1,
             "state": "open"}
    anomaly = {"timestamp": 20, "value": 1.0, "expected": 9.0, "lower": 7.0, "upper": 11.0,
               "score": 4.0, "view": "seasonal", "probability": 1e-16, "baseline": 9.0,
               "surprise": {"seasonal": 16.0}, "point_score": 4.0, "mean_score": 0.0}
    counts(state, 3)  # points that arrive while the job runs
    scheduler.on_result(result(job, MessageType.JOB_RESULT, result={
        "kind": "forecast", "forecast": None, "cold_start": True, "anomalies": [anomaly],
        "events": [event], "detector": detector, "count": 23}))
    series = state.series.get("s")
    assert series.since_fit == 3 and series.jobs["forecast"]["state"] == "done"
    assert state.store.get_output("s", "forecast") is None
    assert state.store.get_output("s", "detector") == detector
    view = run_action(state, "get_anomalies", {"name": "s"})
    assert view["anomalies"] == [anomaly] and view["events"] == [event]
    counts(state, 7)
    scheduler.dispatch(clock.now)
    assert jobs.sent[-1].body["context"]["detector"] == detector


def test_training_still_comes_first_once_there_are_enough_points(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    counts(state, 100)
    assert scheduler.active["s"].kind == "train"


def test_events_are_updated_in_place_and_pushed_to_subscribers(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    handle_control(state, b"C", hello("c1", "client"))
    handle_control(state, b"C", Message(MessageType.SUBSCRIBE, {"series": ["s"]}))
    state.outbox.take()
    opened = {"id": 5, "start": 5, "end": 5, "peak": 2.0, "peak_ts": 5, "points": 1,
              "state": "open"}
    closed = {**opened, "end": 9, "peak": 3.0, "peak_ts": 8, "points": 3, "state": "closed"}
    pushed = []
    for event in (opened, closed, closed):
        counts(state, 20)
        scheduler.dispatch(clock.now)
        scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={
            "kind": "forecast", "forecast": None, "anomalies": [], "events": [event]}))
        pushed += [out.msg.body for out in state.outbox.take()
                   if out.msg.type is MessageType.SERIES_UPDATE
                   and out.msg.body["event"] == "anomaly_event"]
    assert [p["data"]["state"] for p in pushed] == ["open", "closed"]  # the repeat is no news
    assert run_action(state, "get_anomalies", {"name": "s"})["events"] == [closed]


def test_a_malformed_detection_result_changes_nothing(hub, clock):
    state, scheduler, jobs = hub
    add(state)
    worker(state)
    counts(state, 20)
    scheduler.dispatch(clock.now)
    scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={
        "kind": "forecast", "forecast": None, "events": [{"id": "x"}]}))
    series = state.series.get("s")
    assert series.jobs["forecast"]["state"] == "failed"
    assert run_action(state, "get_anomalies", {"name": "s"})["events"] == []
