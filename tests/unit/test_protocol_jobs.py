"""protocol/jobs.py: one spelling per job kind, status and output; job results by kind."""

from __future__ import annotations

import json

import pytest

from protocol.jobs import JobKind, JobStatus, OutputKind, check_result
from protocol.types import MessageType


def test_each_kind_has_its_message_type_and_back():
    assert {k: k.message_type for k in JobKind} == {
        JobKind.TRAIN: MessageType.TRAIN_MODEL, JobKind.FIT: MessageType.FIT_MODEL,
        JobKind.FORECAST: MessageType.FORECAST_SERIE}
    assert all(JobKind.of(k.message_type) is k for k in JobKind)
    with pytest.raises(KeyError):
        JobKind.of(MessageType.HEARTBEAT)


def test_enums_travel_as_the_strings_they_always_were():
    assert json.dumps([JobKind.FIT, JobStatus.DISPATCHED, OutputKind.ANOMALY_EVENTS]) == \
        '["fit", "dispatched", "anomaly_events"]'
    assert JobKind("train") is JobKind.TRAIN and JobKind.TRAIN == "train"


FORECAST = {"timestamps": [1, 2], "mean": [1.0, None], "lower": [0, 0.5], "upper": [2, 3]}


@pytest.mark.parametrize(("kind", "result"), [
    (JobKind.TRAIN, {"kind": "train", "state": {"model": "arima"}, "points": 9, "extra": 1}),
    (JobKind.FIT, {"state": {}}),
    (JobKind.FORECAST, {"forecast": FORECAST, "anomalies": [{"timestamp": 1, "score": 3.0}]}),
    (JobKind.FORECAST, {"forecast": None, "cold_start": True, "anomalies": []}),
])
def test_results_of_each_kind_are_kept(kind, result):
    check_result(kind, result)


@pytest.mark.parametrize(("kind", "result", "words"), [
    (JobKind.TRAIN, {"points": 3}, "state"),
    (JobKind.FIT, {"state": [1]}, "state"),
    (JobKind.FORECAST, {"forecast": {**FORECAST, "mean": [1.0]}}, "differ in length"),
    (JobKind.FORECAST, {"forecast": {**FORECAST, "timestamps": [1, 2.5]}}, "timestamps"),
    (JobKind.FORECAST, {"forecast": {**FORECAST, "upper": ["x", 1]}}, "upper"),
    (JobKind.FORECAST, {"forecast": FORECAST, "anomalies": [{"timestamp": "1"}]}, "timestamp"),
    (JobKind.FORECAST, {"anomalies": []}, "forecast"),
])
def test_a_result_that_cannot_be_kept_is_a_value_error_naming_the_key(kind, result, words):
    with pytest.raises(ValueError) as info:
        check_result(kind, result)
    assert words in str(info.value)
