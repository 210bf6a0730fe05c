"""A TRAIN job measures the model's accuracy and puts it in its result."""

from __future__ import annotations

from tests.support.memory_siridb import MemorySiriDB
from tests.support.worker_jobs import body, run_job, seasonal


def test_train_result_carries_the_accuracy_of_a_plain_model():
    db = MemorySiriDB({"s": seasonal(300)})
    result = run_job(db, "train", body(model="theta", horizon=12, interval_level=0.9))
    accuracy = result["accuracy"]
    assert (accuracy["horizon"], accuracy["origins"], accuracy["level"]) == (12, 3, 0.9)
    assert accuracy["period"] == 24
    assert accuracy["model"]["name"] == "theta"
    assert accuracy["baseline"]["name"] == "seasonal_naive"
    assert set(accuracy["model"]) == {"name", "mase", "smape", "coverage"}


def test_train_result_of_auto_reuses_its_backtest():
    db = MemorySiriDB({"s": seasonal(300)})
    result = run_job(db, "train", body(model="auto", horizon=12))
    selection = result["state"]["selection"]
    assert selection["horizon"] == 12  # the hub's horizon became the backtest's
    accuracy = result["accuracy"]
    assert accuracy["model"]["name"] == f"auto:{result['state']['choice']}"
    assert accuracy["baseline"]["mase"] == selection["scores"]["seasonal_naive"]["mase"]


def test_too_short_for_a_backtest_is_reported_not_failed():
    db = MemorySiriDB({"s": seasonal(9)})
    result = run_job(db, "train", body(model="theta", horizon=6))
    assert "error" in result["accuracy"]
    assert result["state"]["model"] == "theta"
