"""Base analysis (actors/worker/analysis.py) on synthetic series whose interval, period,
trend, gaps and noise are known."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from actors.worker.analysis import analyse
from protocol.analysis import Analysis

START_MS = 1_700_000_000_000


def series(n: int, step_s: float, period: int | None = None, slope: float = 0.0,
           noise: float = 0.5, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """ms timestamps every step_s seconds; values: 10 + slope per point + a sine + noise."""
    i = np.arange(n)
    values = 10.0 + slope * i + np.random.default_rng(seed).normal(0, noise, n)
    if period:
        values += 5 * np.sin(2 * np.pi * i / period)
    return START_MS + (i * step_s * 1000).astype(np.int64), values


def run(ts: np.ndarray, values: np.ndarray, age: float = 30.0) -> dict:
    out = analyse(ts.tolist(), values.tolist(), 1e-3, ts[-1] / 1000 + age)
    msgspec.convert(out, Analysis)  # the shape the hub checks and serves
    return out


def test_interval_period_and_noise_of_a_regular_seasonal_series():
    a = run(*series(3000, 60, period=144))
    assert a["interval"] == 60.0 and a["regularity"] == 1.0
    assert a["gaps"] == {"count": 0, "missing": 0, "largest": 0.0, "latest": []}
    [season] = a["seasons"]  # its multiples (288, 432 ...) are not reported
    assert season["points"] == pytest.approx(144, abs=1)
    assert season["period"] == pytest.approx(144 * 60, rel=0.01)
    assert season["strength"] > 0.8
    assert a["noise"] == pytest.approx(0.5, rel=0.15)
    assert a["trend"]["direction"] == "flat"
    assert a["health"] == "ok" and a["reasons"] == []


def test_two_seasons_are_found():
    ts, values = series(6000, 10, period=600, noise=0.1)
    values = values + 2.5 * np.sin(2 * np.pi * np.arange(6000) / 70)
    found = run(ts, values)["seasons"]
    assert sorted(round(s["points"]) for s in found) == [70, 600]
    assert found[0]["strength"] > 0.5 and found[1]["strength"] > 0.5


def test_a_trend_is_found_with_its_slope_per_second():
    a = run(*series(500, 60, slope=0.2, noise=1.0))
    assert a["trend"]["direction"] == "up"
    assert a["trend"]["slope"] == pytest.approx(0.2 / 60, rel=0.05)
    assert a["trend"]["change"] == pytest.approx(0.2 * 499, rel=0.05)
    assert a["trend"]["strength"] > 0.9
    down = run(*series(500, 60, slope=-0.2, noise=1.0))
    assert down["trend"]["direction"] == "down"


def test_gaps_are_counted_with_the_points_they_lack():
    ts, values = series(1000, 60, period=100)
    keep = np.r_[0:300, 350:700, 710:1000]
    a = run(ts[keep], values[keep])
    assert a["interval"] == 60.0
    assert a["gaps"]["count"] == 2 and a["gaps"]["missing"] == 60
    assert a["gaps"]["largest"] == 51 * 60.0
    assert a["gaps"]["latest"][0] == [ts[299] / 1000, ts[350] / 1000]


def test_irregular_sampling_lowers_regularity_and_says_so():
    rng = np.random.default_rng(3)
    ts = START_MS + np.cumsum(rng.uniform(30_000, 90_000, 400)).astype(np.int64)
    a = run(ts, rng.normal(0, 1, 400))
    assert a["regularity"] < 0.5
    assert any(r.startswith("irregular sampling") for r in a["reasons"])
    assert a["health"] == "warning"


def test_white_noise_has_no_season_nor_trend_and_is_called_mostly_noise():
    a = run(*series(2000, 60, noise=2.0))
    assert a["seasons"] == [] and a["trend"]["direction"] == "flat"
    assert a["noise"] == pytest.approx(2.0, rel=0.1)
    assert a["reasons"] == ["mostly noise: no trend or season stands out"]


def test_flat_line_and_constant_series():
    ts, values = series(200, 60, period=50)
    values[-30:] = values[-31]
    a = run(ts, values)
    assert a["flat"] and a["flat_points"] == 31
    assert "flat line: the last 31 values are equal" in a["reasons"]
    constant = run(ts, np.full(200, 4.0))
    assert constant["health"] == "bad" and "constant" in constant["reasons"][0]


def test_a_series_whose_last_point_is_old_is_stale():
    a = run(*series(200, 60, period=50), age=3600)
    assert a["stale"] and a["age"] == pytest.approx(3600)
    assert any(r.startswith("stale: no point for 3600 s (60 intervals)") for r in a["reasons"])
    assert not run(*series(200, 60, period=50), age=300)["stale"]


def test_too_few_points_is_a_verdict_not_an_error():
    a = analyse([1, 2, 3], [1.0, 2.0, 3.0], 1.0, 10.0)
    assert a == {"points": 3, "health": "bad",
                 "reasons": ["too few points to analyse (3 < 8)"]}
    same = analyse([5] * 10, [1.0] * 10, 1.0, 10.0)
    assert same["reasons"] == ["every point has the same timestamp"]
