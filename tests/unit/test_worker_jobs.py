"""Jobs in the model child: pre-checks, error classes, result shapes, outputs, whole runs."""

from __future__ import annotations

import pytest

from actors.worker.job_errors import JobError, classify, job_settings, precheck
from actors.worker.job_results import forecast_result, model_result, output_points
from actors.worker.series_prep import TooFewPoints
from actors.worker.siridb_io import SeriesNotFound, SiriDBQueryFailed, SiriDBUnavailable
from protocol.settings import defaults
from tests.support.memory_siridb import MemorySiriDB
from tests.support.worker_jobs import body, run_job, seasonal


def test_precheck_refuses_fit_without_state():
    assert precheck("train", body()) is None
    problem = precheck("fit", body())
    assert problem is not None and problem.retry is False
    assert problem.message.startswith("not trained")
    assert precheck("fit", body(state={"model": "arima"})) is None
    assert precheck("forecast", body()) is None  # cold-start anomaly detection


@pytest.mark.parametrize(
    ("exc", "message", "retry"),
    [
        (SeriesNotFound("x"), "series not found in SiriDB", False),
        (SiriDBUnavailable("refused"), "SiriDB unavailable: refused", True),
        (SiriDBQueryFailed("bad"), "SiriDB refused the request: bad", False),
        (TooFewPoints("2 usable points"), "TooFewPoints: 2 usable points", False),
        (JobError("kept", True), "kept", True),
        (RuntimeError("boom"), "internal error: RuntimeError('boom')", False),
    ],
)
def test_classify(exc, message, retry):
    error = classify(exc)
    assert (error.message, error.retry) == (message, retry)


def test_job_settings_are_the_hubs_with_the_tables_defaults():
    # The worker adds no defaults of its own: what a job leaves out is the settings table's.
    table = defaults()
    got = job_settings(body())  # body() sends horizon 6 only
    assert {k: getattr(got, k) for k in ("horizon", "interval_level", "max_points",
                                         "max_job_duration")} == {
        **{k: table[k] for k in ("interval_level", "max_points", "max_job_duration")},
        "horizon": 6}
    sent = job_settings({"settings": {"max_points": 10, "horizon": 3, "anomaly": {"k": 2}}})
    assert (sent.max_points, sent.horizon, sent.max_job_duration) == (10, 3, 300.0)
    for bad in ({"max_points": "10"}, {"max_points": True}, {"horizon": None}):
        with pytest.raises(JobError) as info:
            job_settings({"settings": bad})
        assert not info.value.retry and "job settings" in info.value.message


def test_model_result_shape():
    result = model_result("train", {"model": "arima"}, [(1, 1.0), (5, 2.0)], 9, 0.1234567)
    assert result == {"kind": "train", "state": {"model": "arima"}, "points": 2, "count": 9,
                      "last_ts": 5, "duration": 0.123457}


def test_forecast_result_and_summary():
    forecast = {"timestamps": [10, 20], "mean": [1.0, 2.0], "lower": [0.0, 1.0],
                "upper": [2.0, 3.0], "level": 0.9}
    anomaly = {"timestamp": 5, "value": 9.0, "expected": 1.0, "lower": 0.0, "upper": 2.0,
               "score": 8.0}
    result = forecast_result(forecast, [anomaly], 100, 3, 0.5, ["a"])
    assert result["summary"] == {"horizon": 2, "start": 10, "end": 20, "mean_first": 1.0,
                                 "mean_last": 2.0, "anomalies": 1}
    assert {k: result[k] for k in ("kind", "count", "points", "written")} == {
        "kind": "forecast", "count": 100, "points": 3, "written": ["a"]}


def test_output_points_convert_precision_and_skip_non_finite():
    forecast = {"timestamps": [1000, 2000], "mean": [1, float("nan")], "lower": [0.5, 1.0],
                "upper": [1.5, 3.0], "level": 0.9}
    anomalies = [{"timestamp": 3000, "score": 4.0}]
    replaced, appended = output_points(forecast, anomalies, "s", "ms", "s")
    assert replaced == {"enodo.s.forecast": [[1, 1.0]],
                        "enodo.s.lower": [[1, 0.5], [2, 1.0]],
                        "enodo.s.upper": [[1, 1.5], [2, 3.0]]}
    assert appended == {"enodo.s.anomalies": [[3, 4.0]]}
    assert all(isinstance(v, float) for pts in replaced.values() for _, v in pts)


def test_train_forecast_replace_outputs_and_append_anomalies():
    points = seasonal(300)
    db = MemorySiriDB({"s": points, "enodo.s.forecast": [[1, 1.0]]})
    trained = run_job(db, "train", body(max_points=200))
    assert (trained["points"], trained["count"], trained["last_ts"]) == (200, 300, points[-1][0])
    assert trained["state"]["params"]["time_precision"] == "ms"
    first = run_job(db, "forecast", body(state=trained["state"]))
    forecast = first["forecast"]
    assert first["anomalies"] == [] and first["points"] == 0
    assert [p[0] for p in db.series["enodo.s.forecast"]] == forecast["timestamps"]
    stamps = forecast["timestamps"]
    db.series["s"] += [[stamps[0], forecast["mean"][0]], [stamps[1], forecast["mean"][1] - 99]]
    job = body(state=trained["state"])
    job["context"] = {"previous_forecast": forecast}
    second = run_job(db, "forecast", job)
    assert second["points"] == 2 and [a["timestamp"] for a in second["anomalies"]] == [stamps[1]]
    assert db.series["enodo.s.anomalies"] == [[stamps[1], second["anomalies"][0]["score"]]]
    assert len(db.series["enodo.s.forecast"]) == 6
    assert second["written"] == ["enodo.s.forecast", "enodo.s.lower", "enodo.s.upper",
                                 "enodo.s.anomalies"]
    # The same job again (the first run's result never reached the hub): each anomaly once.
    again = run_job(db, "forecast", job)
    assert again["anomalies"] == second["anomalies"]
    assert db.series["enodo.s.anomalies"] == [[stamps[1], second["anomalies"][0]["score"]]]
    assert len(db.series["enodo.s.forecast"]) == 6


@pytest.mark.parametrize(
    ("series", "model", "needle"),
    [("nope", "arima", "series not found in SiriDB"), ("s", "nosuch", "unknown model"),
     ("short", "arima", "TooFewPoints")],
)
def test_jobs_that_cannot_succeed_fail_without_retry(series, model, needle):
    db = MemorySiriDB({"s": seasonal(100), "short": seasonal(3)})
    with pytest.raises(JobError) as info:
        run_job(db, "train", body(series=series, model=model))
    assert needle in info.value.message and info.value.retry is False


@pytest.mark.parametrize("refused", ["drop ", "insert"])
def test_a_refused_output_write_fails_the_job_for_a_retry(refused):
    class Refusing(MemorySiriDB):
        async def query(self, text):
            if text.startswith(refused):
                raise SiriDBQueryFailed("refused by the server")
            return await super().query(text)

        async def insert(self, data):
            if refused == "insert" and any(n.startswith("enodo.") for n in data):
                raise SiriDBQueryFailed("refused by the server")
            await super().insert(data)

    db = Refusing({"s": seasonal(300)})
    trained = run_job(db, "train", body(max_points=200))
    with pytest.raises(JobError) as info:
        run_job(db, "forecast", body(state=trained["state"]))
    assert info.value.retry is True
    assert info.value.message == "SiriDB refused writing the outputs: refused by the server"
