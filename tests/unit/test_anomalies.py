"""Scoring points against a hand-made forecast, expectations worked out by hand."""

from __future__ import annotations

import json

import pytest

from actors.worker.anomalies import Anomaly, judge, score_points
from actors.worker.models.base import Forecast

# Symmetric intervals: half-widths 2, 4 and 3 at t = 100, 200, 300.
FORECAST = Forecast(
    timestamps=[100, 200, 300],
    mean=[10.0, 20.0, 30.0],
    lower=[8.0, 16.0, 27.0],
    upper=[12.0, 24.0, 33.0],
    level=0.95,
)


def one(timestamp: int, value: float, forecast: Forecast = FORECAST) -> Anomaly:
    (anomaly,) = score_points(forecast, [timestamp], [value])
    return anomaly


def test_point_on_a_forecast_timestamp():
    a = one(200, 26.0)  # 6 above the mean, half-width 4
    assert (a.expected, a.lower, a.upper) == (20.0, 16.0, 24.0)
    assert a.score == pytest.approx(1.5)
    assert a.is_anomalous


def test_point_between_forecast_timestamps_is_interpolated():
    a = one(150, 16.0)  # mean 15, interval 12..18 (half-width 3)
    assert (a.expected, a.lower, a.upper) == (15.0, 12.0, 18.0)
    assert a.score == pytest.approx(1 / 3)
    assert not a.is_anomalous
    b = one(250, 25.0)  # mean 25, lower 21.5, upper 28.5
    assert (b.lower, b.upper) == (21.5, 28.5)
    assert b.score == 0.0


def test_below_the_mean_uses_the_lower_side():
    assert one(300, 24.0).score == pytest.approx(2.0)  # 6 below, half-width 3


def test_asymmetric_interval_scores_by_side():
    skewed = Forecast([0, 10], [10.0, 10.0], [9.0, 9.0], [14.0, 14.0], 0.9)
    assert one(5, 12.0, skewed).score == pytest.approx(0.5)  # 2 above, upper side 4
    assert one(5, 8.0, skewed).score == pytest.approx(2.0)  # 2 below, lower side 1
    assert one(5, 14.0, skewed).score == pytest.approx(1.0)  # on the bound: not anomalous
    assert not one(5, 14.0, skewed).is_anomalous


def test_points_outside_the_forecast_range_are_not_judged():
    judged = score_points(FORECAST, [50, 99, 100, 300, 301, 400], [0.0] * 6)
    assert [a.timestamp for a in judged] == [100, 300]


def test_non_finite_values_are_not_judged():
    judged = score_points(FORECAST, [100, 200, 300], [float("nan"), 20.0, float("inf")])
    assert [a.timestamp for a in judged] == [200]


def test_every_judged_point_is_returned_in_order():
    judged = score_points(FORECAST, [300, 100, 200], [30.0, 13.0, 20.0])
    assert [(a.timestamp, a.score) for a in judged] == [(300, 0.0), (100, 1.5), (200, 0.0)]


def test_judge_keeps_only_anomalies():
    ts, values = [100, 150, 200, 300], [13.0, 15.5, 20.0, 36.0]
    assert [a.timestamp for a in judge(FORECAST, ts, values)] == [100, 300]
    assert [a.timestamp for a in judge(FORECAST, ts, values, threshold=1.8)] == [300]


def test_zero_width_interval_gives_a_finite_score():
    flat = Forecast([0, 10], [5.0, 5.0], [5.0, 5.0], [5.0, 5.0], 0.95)
    assert one(5, 5.0, flat).score == 0.0
    far = one(5, 6.0, flat)
    assert far.is_anomalous and far.score > 1e6
    json.dumps(far.to_json(), allow_nan=False)


def test_to_json():
    assert one(200, 26.0).to_json() == {
        "timestamp": 200, "value": 26.0, "expected": 20.0, "lower": 16.0, "upper": 24.0,
        "score": 1.5, "anomalous": True,
    }


def test_nanosecond_timestamps_interpolate_exactly():
    base = 1_700_000_000_000_000_001
    forecast = Forecast([base, base + 2], [0.0, 2.0], [-1.0, 1.0], [1.0, 3.0], 0.95)
    a = one(base + 1, 1.0, forecast)
    assert a.expected == 1.0 and a.score == 0.0


def test_empty_and_mismatched_input():
    assert score_points(FORECAST, [], []) == []
    empty = Forecast([], [], [], [], 0.95)
    assert score_points(empty, [100], [1.0]) == []
    with pytest.raises(ValueError):
        score_points(FORECAST, [100, 200], [1.0])
