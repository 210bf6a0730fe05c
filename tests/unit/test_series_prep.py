"""Regular grids from irregular points, step inference, period detection, Fourier terms."""

from __future__ import annotations

import numpy as np
import pytest

from actors.worker.series_prep import (
    ConstantSeries,
    SeriesError,
    TooFewPoints,
    choose_period,
    detect_period,
    fourier_terms,
    future_timestamps,
    infer_step,
    regularize,
    require_variation,
)


def test_step_is_median_difference():
    assert infer_step(np.array([0, 10, 20, 31, 40, 50])) == 10
    assert infer_step(np.array([50, 0, 10, 10, 20])) == 10  # order and duplicates do not matter


def test_step_ignores_gaps_and_snaps_to_round_values():
    # Every third point missing would pull a plain median; counting whole steps does not.
    ts = np.array([t for t in range(0, 600_000, 60_000) if t % 180_000 != 120_000])
    assert infer_step(ts + np.array([0, 15, -20, 5, 10, -5, 0])[: len(ts)]) == 60_000
    assert infer_step(np.array([0, 7, 14, 21])) == 7  # odd steps are kept as they are


def test_step_needs_two_distinct_timestamps():
    with pytest.raises(TooFewPoints):
        infer_step(np.array([5, 5, 5]))


def test_regular_input_is_unchanged():
    series = regularize([100, 110, 120, 130], [1.0, 2.0, 3.0, 4.0])
    assert (series.start, series.step, series.last_ts) == (100, 10, 130)
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert series.timestamps.tolist() == [100, 110, 120, 130]
    assert series.observed == 4


def test_duplicates_are_averaged():
    series = regularize([0, 0, 10, 20, 20, 20], [1.0, 3.0, 5.0, 6.0, 7.0, 8.0])
    assert series.values.tolist() == [2.0, 5.0, 7.0]


def test_jittered_points_go_to_the_nearest_bucket():
    series = regularize([0, 11, 19, 30, 42], [1.0, 2.0, 3.0, 4.0, 5.0], step=10)
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert series.last_ts == 40


def test_small_gaps_are_interpolated():
    series = regularize([0, 10, 40, 50], [0.0, 1.0, 4.0, 5.0], step=10)
    assert series.values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert series.observed == 4


def test_history_before_a_long_gap_is_dropped():
    ts = [0, 10, 20, 30, 200, 210, 220, 230]
    series = regularize(ts, [1, 2, 3, 4, 5, 6, 7, 8], step=10, max_gap_steps=3)
    assert series.start == 200 and series.values.tolist() == [5.0, 6.0, 7.0, 8.0]
    with pytest.raises(TooFewPoints, match="after the last gap"):
        regularize(ts, [1, 2, 3, 4, 5, 6, 7, 8], step=10, max_gap_steps=3, min_points=5)
    # A gap of exactly max_gap_steps missing points is still filled.
    series = regularize([0, 10, 50, 60], [0, 1, 5, 6], step=10, max_gap_steps=3)
    assert series.values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_non_finite_values_are_dropped():
    values = [1.0, float("nan"), float("inf"), 4.0, 5.0]
    series = regularize([0, 10, 20, 30, 40], values, step=10)
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert series.observed == 3
    with pytest.raises(TooFewPoints):
        regularize([0, 10, 20], [float("nan")] * 3)


def test_bad_input_is_a_value_error():
    with pytest.raises(SeriesError):
        regularize([0, 10], [1.0])
    with pytest.raises(SeriesError):
        regularize([0, 10, 20], ["a", "b", "c"])
    with pytest.raises(TooFewPoints):
        regularize([], [])
    with pytest.raises(TooFewPoints):
        regularize([0, 10], [1.0, 2.0])
    assert issubclass(TooFewPoints, ValueError) and issubclass(ConstantSeries, ValueError)


def test_anchor_keeps_the_trained_grid():
    series = regularize([14, 26, 33, 47], [1.0, 2.0, 3.0, 4.0], step=10, anchor=5)
    assert series.start == 15 and series.last_ts == 45
    assert series.values.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_max_points_keeps_the_latest():
    series = regularize(list(range(0, 100, 10)), list(range(10)), max_points=4)
    assert series.start == 60 and series.values.tolist() == [6.0, 7.0, 8.0, 9.0]


def test_large_timestamps_stay_exact():
    base = 1_700_000_000_000_000_000  # nanoseconds
    series = regularize([base, base + 10**9, base + 2 * 10**9], [1.0, 2.0, 3.0])
    assert series.step == 10**9 and series.last_ts == base + 2 * 10**9
    assert series.future_timestamps(2) == [base + 3 * 10**9, base + 4 * 10**9]


def test_future_timestamps():
    assert future_timestamps(100, 10, 3) == [110, 120, 130]


def test_constant_values_are_refused():
    require_variation(np.array([1.0, 1.0, 1.5]))
    with pytest.raises(ConstantSeries):
        require_variation(np.array([2.0, 2.0, 2.0]))


def _seasonal(period: int, n: int, seed: int = 0, trend: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return trend * t + 3 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, n)


@pytest.mark.parametrize("period", [7, 12, 24, 168])
def test_detects_the_period(period):
    assert detect_period(_seasonal(period, 30 * period if period < 100 else 1000)) == period


def test_detects_the_period_under_a_trend():
    assert detect_period(_seasonal(24, 720, trend=0.05)) == 24


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(size=500),  # white noise
        np.cumsum(np.random.default_rng(2).normal(size=500)),  # random walk
        np.arange(500, dtype=float),  # straight line
        np.full(50, 4.0),  # constant
        np.array([1.0, 2.0, 3.0]),  # too short to say
    ],
)
def test_no_period_without_seasonality(values):
    assert detect_period(values) == 0


def test_period_cap():
    values = _seasonal(60, 1200)
    assert detect_period(values) == 60
    assert detect_period(values, max_period=40) != 60
    assert detect_period(_seasonal(60, 150)) == 0  # fewer than three cycles


def test_choose_period_prefers_the_request():
    values = _seasonal(24, 500)
    assert choose_period(values, None, 500) == 24
    assert choose_period(values, 0, 500) == 0
    assert choose_period(values, 12, 500) == 12


def test_fourier_terms():
    terms = fourier_terms(np.array([0.0, 6.0]), 24, 3)
    assert terms.shape == (2, 6)
    assert np.allclose(terms[0], [0, 1, 0, 1, 0, 1])  # sin 0, cos 0 for each harmonic
    assert np.allclose(terms[1, :2], [1, 0])  # a quarter period
    assert fourier_terms(np.arange(4.0), 2, 1).tolist() == [[1.0], [-1.0], [1.0], [-1.0]]
    assert fourier_terms(np.arange(3.0), 0, 0).shape == (3, 0)
