"""Accuracy measures on small hand-made cases whose values are checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actors.worker import metrics


def test_mase_non_seasonal():
    # in-sample steps |2-1|, |4-2|, |7-4| average 2; errors 1 and 2 average 1.5
    assert metrics.mase([3, 5], [2, 7], [1, 2, 4, 7]) == pytest.approx(0.75)


def test_mase_seasonal_scale():
    # lag-2 differences 3, 5, 1, 2 average 2.75; errors 1 and 1 average 1
    assert metrics.mase([6, 10], [5, 9], [1, 2, 4, 7, 5, 9], period=2) == pytest.approx(1 / 2.75)


def test_mase_period_longer_than_history_falls_back_to_lag_one():
    assert metrics.mase([3], [2], [1, 2, 4], period=4) == pytest.approx(1 / 1.5)


def test_mase_constant_history():
    assert metrics.mase([5], [5], [5, 5, 5]) == 0.0
    assert math.isinf(metrics.mase([6], [5], [5, 5, 5]))


def test_smape():
    # 200 * mean(10 / 210, 20 / 380) = 100 * (0.0476190 + 0.0526316)
    assert metrics.smape([100, 200], [110, 180]) == pytest.approx(10.02506265)
    assert metrics.smape([0, 1], [0, 1]) == 0.0
    assert metrics.smape([1], [-1]) == pytest.approx(200.0)


def test_coverage_counts_bounds_as_inside():
    assert metrics.coverage([1, 2, 3, 4], [0, 2.5, 2, 5], [2, 3, 3, 6]) == 0.5


def test_owa_is_the_mean_of_the_relative_errors():
    assert metrics.owa(10.0, 1.5, 12.5, 2.0) == pytest.approx(0.5 * (0.8 + 0.75))
    assert metrics.owa(12.5, 2.0, 12.5, 2.0) == 1.0


def test_naive2_repeats_the_last_value_without_seasonality():
    assert metrics.naive2([3, 1, 4, 1, 5], 3).tolist() == [5, 5, 5]


def test_naive2_reseasonalises_a_seasonal_series():
    index = np.array([0.5, 1.0, 1.5, 1.0])
    history = 10 * np.tile(index, 5)
    assert metrics.is_seasonal(history, 4)
    assert metrics.naive2(history, 6, 4) == pytest.approx([5, 10, 15, 10, 5, 10])


def test_mismatched_or_empty_input_is_refused():
    with pytest.raises(ValueError):
        metrics.smape([1, 2], [1])
    with pytest.raises(ValueError):
        metrics.coverage([], [], [])
    with pytest.raises(ValueError):
        metrics.mase([1], [1], [1])
