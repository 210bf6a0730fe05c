"""The console's labels and chart columns, made from hub answers."""

from __future__ import annotations

from api.console.views import accuracy_label, chart_data, job_state, model_label, to_iso
from api.console.web import changed_fields, form_value


def test_model_label_says_what_auto_chose():
    assert model_label("auto", {"model": {"name": "auto:theta", "mase": 0.5}}) == "auto → theta"
    assert model_label("auto", {"model": None}) == "auto"
    assert model_label("ets", {"model": {"name": "ets"}}) == "ets"


def test_accuracy_label_compares_with_seasonal_naive():
    both = {"model": {"mase": 0.41}, "baseline": {"mase": 1.02}}
    assert accuracy_label(both) == "0.41 vs 1.02 naive (better)"
    assert accuracy_label({"model": None, "baseline": None}) == "not measured"
    assert accuracy_label({"error": "history too short"}) == "not measured"


def test_job_state_names_what_runs_waits_or_failed_first():
    jobs = {"train": "done", "fit": "failed", "forecast": "running"}
    assert job_state(jobs) == "running: forecast"
    assert job_state({"train": "done", "fit": "failed", "forecast": "done"}) == "failed: fit"
    assert job_state({"train": "none", "fit": "none", "forecast": "none"}) == "new"
    assert job_state({"train": {"state": "done"}, "fit": {"state": "done"}}) == "ready"


def test_timestamps_of_any_precision_land_on_the_same_instant():
    assert {to_iso(1_700_000_000 * 10**k) for k in (0, 3, 6, 9)} == {
        "2023-11-14T22:13:20+00:00"}


def test_chart_data_keeps_raw_timestamps_and_events():
    forecast = {"level": 0.95, "points": [
        {"timestamp": 60, "mean": 1.0, "lower": 0.5, "upper": 1.5}]}
    anomalies = {"anomalies": [{"timestamp": 30, "value": 9.0, "score": 4.0}],
                 "events": [{"id": 30, "start": 30, "end": None, "state": "open"}]}
    data = chart_data([(0, 1.0), (30, 9.0)], forecast, anomalies, None)
    assert data["forecast"]["ts"] == [60] and data["anomalies"]["ts"] == [30]
    assert data["events"][0]["x0"] == data["events"][0]["x1"]  # open, one point so far
    assert data["history"]["y"] == [1.0, 9.0]


def test_form_values_become_json_values_the_hub_checks():
    assert [form_value(t) for t in ("12", "0.5", "true", "auto", "12x")] == [
        12, 0.5, True, "auto", "12x"]
    current = {"horizon": 24, "interval_level": 0.95, "default_model": "auto"}
    form = {"csrf": "x", "horizon": "24", "interval_level": "0.9", "default_model": "auto",
            "unknown": "1"}
    assert changed_fields(form, current) == {"interval_level": 0.9}


def test_rule_rows_give_each_rule_its_state_and_the_stale_check():
    from api.console.views import rule_rows

    detail = {"rules": [
        {"id": "full", "kind": "forecast", "op": "above", "threshold": 95.0, "within": 604800,
         "band": True, "severity": "critical", "for_seconds": "15m", "keep_firing_for": 7200},
        {"id": "hot", "kind": "data", "op": "below", "threshold": 1.5, "severity": "warning",
         "for_seconds": 0.0, "keep_firing_for": 0.0}],
        "rule_states": {"full": {"status": "firing", "since": 1_700_000_000,
                                 "crossing_at": 1_700_086_400},
                        "stale": {"status": "firing", "changed_at": 1_700_000_060.0}}}
    full, hot, stale = rule_rows(detail)
    assert full["condition"] == "above 95 within 1w (band) for 15m, keep 2h"
    assert full["status"] == "firing"
    assert full["crossing"] == "2023-11-15T22:13:20+00:00"
    assert hot["status"] == "unknown" and hot["since"] == "" and hot["condition"] == "below 1.5"
    assert stale["id"] == "stale" and stale["since"] == "2023-11-14T22:14:20+00:00"
    assert rule_rows({}) == []


def test_analysis_rows_show_only_what_the_analysis_has():
    from api.console.views import analysis_rows

    assert analysis_rows(None) == []
    assert analysis_rows({"points": 5, "health": "bad", "reasons": ["too few"]}) == [
        ("points", "5")]
    rows = dict(analysis_rows({"points": 100, "health": "ok", "reasons": [], "interval": 90.0,
                               "regularity": 0.5, "seasons": []}))
    assert rows == {"points": "100", "interval": "1.5m",
                    "regularity": "50% of steps on the interval", "seasons": "none found"}
