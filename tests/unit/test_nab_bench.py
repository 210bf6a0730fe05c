"""bench/nab.py end to end on a tiny NAB-format folder made here: streaming, results, tuning."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from bench import nab
from bench.nab_data import load_corpus, parse_time

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


def test_bench_finds_the_spike_and_writes_nab_results(tmp_path, capsys):
    folder = make_folder(tmp_path / "nab")
    results = tmp_path / "results"
    assert nab.main(["--data-dir", str(folder / "data"), "--labels",
                     str(folder / "labels" / "combined_windows.json"),
                     "--results-dir", str(results), "--jobs", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
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


def test_stream_uses_no_point_after_the_one_judged(tmp_path):
    folder = make_folder(tmp_path)
    [_, data] = load_corpus(folder / "data", folder / "labels" / "combined_windows.json")
    cut = 650
    short = type(data)(data.name, data.stamps[:cut], data.seconds[:cut], data.values[:cut], [])
    full = nab.stream(data, nab.Pipeline(), nab.AnomalySettings(), 1.0)
    head = nab.stream(short, nab.Pipeline(), nab.AnomalySettings(), 1.0)
    assert list(full.scores[:cut]) == list(head.scores)


def test_threshold_is_tuned_on_another_folder_only(tmp_path, capsys):
    scored = make_folder(tmp_path / "scored")
    tune = make_folder(tmp_path / "tune", spike_at=600)
    args = ["--data-dir", str(scored / "data"), "--labels",
            str(scored / "labels" / "combined_windows.json"), "--jobs", "1"]
    assert nab.main([*args, "--tune-dir", str(tune)]) == 0
    assert f"tuned on {tune}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        nab.main([*args, "--tune-dir", str(scored)])


def test_data_dir_may_be_the_folder_holding_data_and_labels(tmp_path, capsys):
    folder = make_folder(tmp_path)
    assert nab.main(["--data-dir", str(folder), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert f"labels {folder / 'labels' / 'combined_windows.json'}" in out
