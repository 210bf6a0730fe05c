"""A real worker process with a fake hub and the SiriDB development server: jobs end to end."""

from __future__ import annotations

import signal

import pytest

from protocol.envelope import Message
from protocol.types import MessageType
from scripts.siridb_dev.testing import DevServer
from tests.integration.test_worker_harness import (
    FakeHub,
    WorkerProcess,
    job,
    seasonal_points,
    siridb,
)

NAME = "sensors/room 'a' \u00fc \"x\""
BIG = "big series"


@pytest.fixture(scope="module")
def server():
    with DevServer() as srv:
        siridb(srv.port, ("insert", {NAME: seasonal_points(600), BIG: seasonal_points(20_000)}))
        yield srv


@pytest.fixture(scope="module")
def hub():
    fake = FakeHub()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def worker(tmp_path_factory, hub, server):
    process = WorkerProcess(tmp_path_factory.mktemp("worker"), hub, server.port,
                            ENODO_WORKER_SHUTDOWN_GRACE="0.3", ENODO_WORKER_READ_CHUNK_POINTS="500")
    try:
        hub.expect_control(MessageType.HANDSHAKE, timeout=30)
    except AssertionError:
        process.stop(signal.SIGKILL)
        raise AssertionError("worker did not handshake:\n" + process.log_tail()) from None
    yield process
    if process.proc.poll() is None:
        process.stop(signal.SIGKILL)


def run(hub, kind, body, timeout=30.0):
    """Push a job; check JOB_ACCEPTED comes first and return the final message."""
    hub.push(kind, body)
    accepted = hub.result(timeout)
    assert (accepted.type, accepted.body["job_id"]) == (MessageType.JOB_ACCEPTED, body["job_id"])
    return hub.outcome(body["job_id"], timeout)


def test_handshake_then_heartbeats(hub, worker):
    hello = next(m for m in hub.log if m.type is MessageType.HANDSHAKE).body
    assert hello["client_type"] == "worker" and hello["client_id"].endswith("-7")
    assert hello["protocol"] == 1 and hello["capacity"] == 2  # job_credit
    assert {"arima", "prophet"} <= set(hello["models"])
    beat = hub.expect_control(MessageType.HEARTBEAT, timeout=5)
    assert beat.body == {"busy": False, "job_id": None}


def test_train_fit_forecast_and_outputs_in_siridb(hub, worker, server):
    points = seasonal_points(624)
    trained = run(hub, MessageType.TRAIN_MODEL, job("t1", NAME))
    assert trained.type is MessageType.JOB_RESULT, trained.body
    result = trained.body["result"]
    assert trained.body["worker_id"] == hello_id(hub)
    assert result["kind"] == "train" and result["points"] == result["count"] == 600
    assert result["last_ts"] == points[599][0] and result["duration"] >= 0
    assert result["state"]["model"] == "arima"

    siridb(server.port, ("insert", {NAME: points[600:]}))
    fitted = run(hub, MessageType.FIT_MODEL, job("f1", NAME, state=result["state"]))
    assert fitted.type is MessageType.JOB_RESULT, fitted.body
    refit = fitted.body["result"]
    state = refit["state"]
    assert (refit["kind"], refit["count"], refit["last_ts"]) == ("fit", 624, points[-1][0])

    first = run(hub, MessageType.FORECAST_SERIE, job("c1", NAME, state=state, horizon=12))
    assert first.type is MessageType.JOB_RESULT, first.body
    out = first.body["result"]
    forecast = out["forecast"]
    assert out["kind"] == "forecast" and out["anomalies"] == [] and out["count"] == 624
    assert len(forecast["timestamps"]) == 12 and forecast["timestamps"][0] > points[-1][0]
    assert all(lo <= m <= hi for lo, m, hi in zip(forecast["lower"], forecast["mean"],
                                                  forecast["upper"], strict=True))
    assert out["summary"] == {
        "horizon": 12, "start": forecast["timestamps"][0], "end": forecast["timestamps"][-1],
        "mean_first": forecast["mean"][0], "mean_last": forecast["mean"][-1], "anomalies": 0,
    }
    prefix = f"enodo.{NAME}."
    assert out["written"] == [prefix + "forecast", prefix + "lower", prefix + "upper"]

    # New points inside the forecast's range, one far outside the interval.
    stamps, mean = forecast["timestamps"], forecast["mean"]
    siridb(server.port, ("insert", {NAME: [[stamps[0], mean[0]], [stamps[1], mean[1] + 1000.0],
                                           [stamps[2], mean[2]]]}))
    context = {"previous_forecast": forecast}
    second = run(hub, MessageType.FORECAST_SERIE,
                 dict(job("c2", NAME, state=state, horizon=12), context=context))
    assert second.type is MessageType.JOB_RESULT, second.body
    out = second.body["result"]
    assert out["points"] == 3 and out["count"] == 627
    [anomaly] = out["anomalies"]
    assert anomaly["timestamp"] == stamps[1] and anomaly["score"] > 1
    assert set(anomaly) == {"timestamp", "value", "expected", "lower", "upper", "score",
                            "view", "probability", "baseline", "surprise", "point_score",
                            "mean_score"}
    # Explained: the forecast's band as people see it, and the view that decided.
    assert anomaly["view"] == "seasonal" and anomaly["probability"] < 1e-3
    assert (anomaly["expected"], anomaly["upper"]) == (mean[1], forecast["upper"][1])
    assert out["summary"]["anomalies"] == 1 and out["written"][-1] == prefix + "anomalies"

    names = [prefix + kind for kind in ("forecast", "lower", "upper", "anomalies")]
    [listing] = siridb(server.port, ("query", "list series name, length"))
    lengths = {name: length for name, length in listing["series"]}
    assert [lengths.get(name) for name in names] == [12, 12, 12, 1]


def hello_id(hub):
    """The client id of the worker's first handshake."""
    return next(m for m in hub.log if m.type is MessageType.HANDSHAKE).body["client_id"]


def test_cold_start_detection_without_a_model(hub, worker, server):
    body = dict(job("cold", NAME, state=None, horizon=12), context={"detector": None})
    body["settings"]["anomaly"] = {"direction": "above"}
    done = run(hub, MessageType.FORECAST_SERIE, body)
    assert done.type is MessageType.JOB_RESULT, done.body
    out = done.body["result"]
    assert out["cold_start"] is True and out["forecast"] is None
    assert out["judged"] > 0 and out["detector"]["last_ts"] is not None
    again = run(hub, MessageType.FORECAST_SERIE,
                dict(body, job_id="cold2", context={"detector": out["detector"]}))
    assert again.body["result"]["judged"] == 0


def test_unknown_series_and_untrained_fit_fail_without_retry(hub, worker):
    missing = run(hub, MessageType.TRAIN_MODEL, job("m1", "no such series"))
    assert missing.type is MessageType.JOB_FAILED
    assert missing.body["error"] == "series not found in SiriDB"
    assert missing.body["retry"] is False
    untrained = run(hub, MessageType.FIT_MODEL, job("m2", NAME, state=None))
    assert untrained.type is MessageType.JOB_FAILED and untrained.body["retry"] is False
    assert "not trained" in untrained.body["error"]


def test_credit_holds_one_ready_job_refuses_more_then_runs_it_after_the_time_limit(
        hub, worker):
    slow = job("slow", BIG, model="prophet", max_points=20_000, max_job_duration=0.5)
    slow["model_parameters"] = {"max_train_points": 20_000}
    hub.push(MessageType.TRAIN_MODEL, slow)
    assert hub.result().type is MessageType.JOB_ACCEPTED
    hub.push(MessageType.TRAIN_MODEL, job("second", NAME))  # the credit's ready job
    second = hub.result()
    assert (second.type, second.body["job_id"]) == (MessageType.JOB_ACCEPTED, "second")
    hub.push(MessageType.TRAIN_MODEL, job("third", NAME))
    refused = hub.result()
    assert refused.type is MessageType.JOB_REFUSED
    assert refused.body == {"job_id": "third", "worker_id": hello_id(hub), "reason": "busy"}
    failed = hub.result()
    assert failed.body["job_id"] == "slow" and failed.type is MessageType.JOB_FAILED
    assert failed.body["error"] == "exceeded max_job_duration (0.5 s)"
    assert failed.body["retry"] is False
    ran = hub.result(timeout=90)  # the ready job starts in the new child (the old was killed)
    assert (ran.type, ran.body["job_id"]) == (MessageType.JOB_RESULT, "second"), ran.body
    after = run(hub, MessageType.TRAIN_MODEL, job("after", NAME))
    assert after.type is MessageType.JOB_RESULT, after.body
    assert worker.proc.poll() is None


def test_a_ready_job_is_dropped_when_the_session_ends_the_running_one_finishes(hub, worker):
    slow = job("running", BIG, model="prophet", max_points=20_000, max_job_duration=0.5)
    slow["model_parameters"] = {"max_train_points": 20_000}
    hub.push(MessageType.TRAIN_MODEL, slow)
    assert hub.result().body["job_id"] == "running"
    hub.push(MessageType.TRAIN_MODEL, job("orphan", NAME))
    assert hub.result().body["job_id"] == "orphan"
    hub.outbox.put(Message(MessageType.UNKNOWN_CLIENT, {"message": "restarted"}))
    hub.expect_control(MessageType.HANDSHAKE)  # a new session: the hub re-queues "orphan"
    ended = hub.result()  # sent under the new session's key (hub.result checks it)
    assert (ended.type, ended.body["job_id"]) == (MessageType.JOB_FAILED, "running")
    after = run(hub, MessageType.TRAIN_MODEL, job("next", NAME), timeout=90)  # a new child
    assert after.type is MessageType.JOB_RESULT, after.body
    assert "orphan" not in [m.body["job_id"] for m in hub.log if "job_id" in m.body]


def test_sigterm_hands_back_the_ready_and_the_running_job_and_says_shutdown(hub, worker):
    slow = job("last", BIG, model="prophet", max_points=20_000, max_job_duration=60)
    slow["model_parameters"] = {"max_train_points": 20_000}
    hub.push(MessageType.TRAIN_MODEL, slow)
    assert hub.result().type is MessageType.JOB_ACCEPTED
    hub.push(MessageType.TRAIN_MODEL, job("waiting", NAME))
    assert hub.result().body["job_id"] == "waiting"
    worker.proc.send_signal(signal.SIGTERM)
    handed_back = [hub.result(timeout=10), hub.result(timeout=10)]
    assert [(m.type, m.body["job_id"], m.body["reason"]) for m in handed_back] == [
        (MessageType.JOB_REFUSED, "waiting", "shutdown"),  # at once: another worker takes it
        (MessageType.JOB_REFUSED, "last", "shutdown"),     # after shutdown_grace
    ]
    hub.expect_control(MessageType.SHUTDOWN, timeout=10)
    assert worker.proc.wait(10) == 0
