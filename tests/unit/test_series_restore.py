"""Series restored from the store: every field back, settings shared, old records read."""

from __future__ import annotations

import ujson

from actors.hub.series import Series, SeriesRegistry
from actors.hub.store import Store


def stored(series: Series) -> tuple[str, str]:
    return ujson.dumps(series.config()), ujson.dumps(series.runtime())


def full_series(name: str) -> Series:
    series = Series(name, "arima", {"max_p": 3, "order": None}, True, 1.5,
                    anomaly={"direction": "up", "k": 2})
    series.points_counted, series.points_siridb, series.counted_at_reconcile = 9, 7, 3
    series.drift, series.since_fit, series.since_train = 1, 2, 4
    series.trained_at, series.forecast_at, series.requested = 10.0, 11.0, "fit"
    series.last_forecast = {"horizon": 3, "start": 5, "end": 7, "mean_first": 1.0,
                            "mean_last": 2.0, "anomalies": 0}
    series.journal_seq, series.in_siridb, series.appeared_at = 12, True, 13.0
    series.jobs["train"].update(state="done", updated_at=10.0, worker="w1", attempt=1,
                                error="old")
    return series


def test_a_restored_series_equals_the_one_stored():
    original = full_series("s")
    assert Series.restore("s", *stored(original)) == original


def test_restored_series_share_equal_settings_but_not_job_entries():
    one = Series.restore("a", *stored(full_series("a")))
    two = Series.restore("b", *stored(full_series("b")))
    assert one.model_parameters is two.model_parameters and one.anomaly is two.anomaly
    assert one.jobs["train"] is not two.jobs["train"]
    one.jobs["train"]["state"] = "failed"
    assert two.jobs["train"]["state"] == "done"


def test_a_record_of_an_older_hub_takes_defaults_for_what_it_lacks():
    config = ujson.dumps({"model": "arima", "model_parameters": {}, "realtime": False,
                          "created_at": 1})
    runtime = ujson.dumps({"points_counted": 5, "jobs": {"train": {"state": "done"}}})
    series = Series.restore("old", config, runtime)
    assert series.points_counted == 5 and series.anomaly == {}
    assert series.jobs["train"] == {"state": "done", "error": None, "updated_at": None,
                                    "worker": None, "attempt": 0}
    assert series.jobs["forecast"]["state"] == "none"


def test_a_record_of_unexpected_types_is_read_leniently(caplog):
    config = ujson.dumps({"model": "arima", "model_parameters": {}, "realtime": 0,
                          "created_at": "1.5"})
    series = Series.restore("odd", config, ujson.dumps({"points_counted": "4"}))
    assert series.points_counted == 4 and series.created_at == 1.5
    assert "read leniently" in caplog.text


def test_registry_round_trip_through_sqlite(tmp_path):
    store = Store(str(tmp_path))
    registry = SeriesRegistry(store)
    registry.add(full_series("x"))
    store.commit()
    store.close()
    again = SeriesRegistry(Store(str(tmp_path)))
    expected = full_series("x")
    expected.journal_seq = 0  # add() sets it: no journal row yet
    assert again.get("x") == expected and again.index.names == ["x"]
