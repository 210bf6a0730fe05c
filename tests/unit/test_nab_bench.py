"""bench/nab.py on tiny NAB-format folders made here: the replayed jobs, the replayed decision,
leave-one-group-out, results CSVs."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from actors.worker.detector import AnomalySettings
from actors.worker.job_errors import JobError
from actors.worker.jobs import JobRunner
from bench import nab
from bench.nab_data import load_corpus, parse_time
from bench.nab_stream import Pipeline, run_jobs
from bench.nab_views import alerts, detector_alerts, observations

START = datetime(2024, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)


def make_folder(root, spike_at=700, rows=900):
    """One group, two files: a daily cycle with a spike (and its window), and one without."""
    (root / "data" / "g").mkdir(parents=True)
    (root / "labels").mkdir()
    stamps = [(START + i * STEP).strftime("%Y-%m-%d %H:%M:%S") for i in range(rows)]
    for name, spike in (("spiky.csv", spike_at), ("calm.csv", None)):
        with (root / "data" / "g" / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value"])
            for i, stamp in enumerate(stamps):
                value = 50 + 10 * math.sin(2 * math.pi * i / 288) + (i * 7919 % 13) / 13
                writer.writerow([stamp, value + (80 if i == spike else 0)])
    window = [stamps[spike_at - 20] + ".000000", stamps[spike_at + 20] + ".000000"]
    labels = {"g/spiky.csv": [window], "g/calm.csv": []}
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels))
    return root


def test_parse_time_with_and_without_fraction():
    assert parse_time("2024-01-01 00:05:00") == parse_time("2024-01-01 00:05:00.000000")
    with pytest.raises(ValueError):
        parse_time("yesterday")


def test_load_corpus_turns_windows_into_rows(tmp_path):
    files = load_corpus(make_folder(tmp_path) / "data",
                        tmp_path / "labels" / "combined_windows.json")
    assert [f.name for f in files] == ["g/calm.csv", "g/spiky.csv"]
    assert files[0].windows == [] and files[1].windows == [(680, 720)]


def bench_args(tmp_path, scored, tune):
    """Score one tiny folder with the knobs chosen on another; the fast model keeps it short."""
    return ["--data-dir", str(scored / "data"), "--labels",
            str(scored / "labels" / "combined_windows.json"), "--tune-dir", str(tune),
            "--cache-dir", str(tmp_path / "cache"), "--processes", "1",
            "--model", "seasonal_naive"]


def test_bench_finds_the_spike_and_writes_nab_results(tmp_path, capsys):
    folder = make_folder(tmp_path / "nab")
    tune = make_folder(tmp_path / "tune", spike_at=600)
    results = tmp_path / "results"
    assert nab.main([*bench_args(tmp_path, folder, tune), "--results-dir", str(results)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(f"chosen on {tune} without it" in line for line in lines)
    assert lines[-1].startswith("NAB standard score: ")
    assert float(lines[-1].split(": ")[1]) > 90
    assert any(line.startswith("event level: precision") for line in lines)
    with (results / "g" / "spiky.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "alert"]
    assert len(rows) == 900 and rows[700]["alert"] == "1"
    assert all(0.0 <= float(r["anomaly_score"]) < 1.0 for r in rows)
    # A NAB scorer at threshold 0.5 sees exactly the alerts.
    assert [r["alert"] == "1" for r in rows] == [float(r["anomaly_score"]) > 0.5 for r in rows]
    # The second run reads the model's jobs from the cache: the same figures.
    assert nab.main(bench_args(tmp_path, folder, tune)) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == lines[-1]


def test_replayed_jobs_see_no_point_after_their_own(tmp_path):
    folder = make_folder(tmp_path)
    [_, data] = load_corpus(folder / "data", folder / "labels" / "combined_windows.json")
    cut = 650
    short = type(data)(data.name, data.stamps[:cut], data.seconds[:cut], data.values[:cut], [])
    cfg = Pipeline(model="seasonal_naive")
    full, head = run_jobs(data, cfg), run_jobs(short, cfg)
    assert full[:len(head)] == head
    # The hub's schedule: cold-start forecasts every 20 points from 20, a train at 100, then a
    # fit (and its forecast) every 20 points.
    assert [j["rows"] for j in head[:6]] == [20, 40, 60, 80, 100, 120]
    assert [j["forecast"] is None for j in head[:6]] == [True] * 4 + [False] * 2
    seen = observations(short, head, cfg.interval_level)
    # Every point from the 20th is judged once, by the first job that sees it.
    assert list(seen.rows) == list(range(20, head[-1]["rows"]))


def test_the_fast_replay_is_the_product_detector(tmp_path):
    folder = make_folder(tmp_path, spike_at=500)
    [calm, spiky] = load_corpus(folder / "data", folder / "labels" / "combined_windows.json")
    cfg = Pipeline(model="seasonal_naive")
    for data in (calm, spiky):
        seen = observations(data, run_jobs(data, cfg), cfg.interval_level)
        for sensitivity in (1e-2, 1e-4, 1e-8):
            fast, _ = alerts(seen, ("seasonal", "level"), "any", -math.log10(sensitivity), 100)
            settings = AnomalySettings(views=("seasonal", "level"))
            product, _ = detector_alerts(seen, settings, sensitivity, cfg.interval_level)
            assert fast == product
    assert 500 in alerts(seen, ("seasonal",), "any", 4.0, 100)[0]


def test_tuning_never_sees_the_group_it_scores(tmp_path, monkeypatch):
    folder = make_folder(tmp_path)
    files = load_corpus(folder / "data", folder / "labels" / "combined_windows.json")
    files[1].name = "h/spiky.csv"  # two groups: g (calm) and h (spiky)
    seen_by_tune = []
    monkeypatch.setattr(nab, "tune", lambda fs, seen: seen_by_tune.append(
        (sorted(f.group for f in fs), seen)) or nab.Choice(("seasonal",), "any", 1e-4))
    # Observations per calibration window, one per file (stand-ins: only their order matters).
    nab.logo(files, {2000: ["calm 2000", "spiky 2000"], 5000: ["calm 5000", "spiky 5000"]})
    assert seen_by_tune == [
        (["h"], {2000: ["spiky 2000"], 5000: ["spiky 5000"]}),
        (["g"], {2000: ["calm 2000"], 5000: ["calm 5000"]}),
    ]


def test_without_the_model_the_schedule_and_the_model_free_views_are_the_same(tmp_path):
    folder = make_folder(tmp_path, spike_at=500)
    [_, data] = load_corpus(folder / "data", folder / "labels" / "combined_windows.json")
    cfg = Pipeline(model="seasonal_naive")
    with_model, without = run_jobs(data, cfg), run_jobs(data, cfg, model=False)
    assert [j["rows"] for j in with_model] == [j["rows"] for j in without]
    assert all(j["forecast"] is None for j in without)
    a = observations(data, with_model, cfg.interval_level)
    b = observations(data, without, cfg.interval_level)
    assert list(a.rows) == list(b.rows)
    # Only the forecast view reads the model.
    assert (a.surprise[:, 1:] == b.surprise[:, 1:]).all() and not b.surprise[:, 0].any()


def test_after_a_failed_job_the_replay_follows_the_hub(tmp_path, monkeypatch):
    """A failed train waits fit_every points, with cold-start forecast jobs meanwhile (not a
    train at every point and no judging); a failed fit is tried again at the next point."""
    folder = make_folder(tmp_path)
    [_, data] = load_corpus(folder / "data", folder / "labels" / "combined_windows.json")
    tried: list[tuple[str, int]] = []
    real = JobRunner.run

    async def flaky(self, kind, body):
        rows = self.reader.visible
        tried.append((kind, rows))
        if (kind == "train" and rows < 160) or (kind == "fit" and rows == 200):
            raise JobError("ValueError: refused", False)
        return await real(self, kind, body)

    monkeypatch.setattr(JobRunner, "run", flaky)
    jobs = run_jobs(type(data)(data.name, data.stamps[:230], data.seconds[:230],
                               data.values[:230], []), Pipeline(model="seasonal_naive"))
    assert [k for k in tried if k[0] != "forecast"] == [
        ("train", 100), ("train", 120), ("train", 140), ("train", 160), ("fit", 180),
        ("fit", 200), ("fit", 201), ("fit", 221)]
    assert [(j["rows"], j["forecast"] is None) for j in jobs] == [
        (20, True), (40, True), (60, True), (80, True), (101, True), (121, True), (141, True),
        (160, False), (180, False), (201, False), (221, False)]


def test_a_flat_series_is_modelled_quiet_and_its_change_found(tmp_path):
    """NAB art_flatline: `auto` trains on a constant history (a zero-width band), and the views
    neither divide by zero nor flag the flat points, but find a step on it."""
    folder = make_folder(tmp_path)
    [_, data] = load_corpus(folder / "data", folder / "labels" / "combined_windows.json")
    values = [45.0] * 300 + [48.0] * 60
    flat = type(data)(data.name, data.stamps[:360], data.seconds[:360],
                      np.asarray(values), [])
    cfg = Pipeline()  # auto, the shipped default
    jobs = run_jobs(flat, cfg)
    assert [j["rows"] for j in jobs][:6] == [20, 40, 60, 80, 100, 120]
    band = jobs[5]["forecast"]
    assert band["mean"][0] == band["lower"][0] == band["upper"][0] == 45.0
    seen = observations(flat, jobs, cfg.interval_level)
    assert np.isfinite(seen.surprise).all()
    for views in (("seasonal", "level"), ("forecast", "seasonal", "level")):
        found, _ = detector_alerts(seen, AnomalySettings(views=views), 1e-3, cfg.interval_level)
        assert found and all(300 <= row < 305 for row in found[:1]), (views, found)
        assert not [row for row in found if row < 300], (views, found)


def test_the_false_alarm_series_are_the_demo_as_it_is():
    """The bench reads the demo's generator (it crashed when the demo was rewritten)."""
    from bench.nab_report import demo_files
    from scripts import demo_data as demo

    files = {data.name: (data, bulk, skip) for data, bulk, skip in demo_files()}
    assert sorted(files) == ["demo/co2", "demo/cpu", "demo/humidity", "demo/latency",
                             "demo/temperature"]
    co2, bulk, skip = files["demo/co2"]
    assert len(co2.values) - bulk == demo.CO2_LIVE and not skip
    cpu, bulk, skip = files["demo/cpu"]
    spike = next(i for i in demo.INCIDENTS if i.series == "demo.cpu")
    row = demo.SENSOR_HISTORY + spike.start
    assert bulk == demo.SENSOR_HISTORY and {row, row + 1} <= skip and row + 2 not in skip
    assert cpu.values[row] > cpu.values[row - 1] + 20  # the planted spike is in the data
