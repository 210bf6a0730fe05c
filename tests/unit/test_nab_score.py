"""The NAB scorer (standard profile) on small hand-made files with hand-checked figures."""

from __future__ import annotations

import math

import pytest

from bench.nab_score import probation_rows, score_file, sigmoid, summarise

# One 1,000-row file: probation is rows 0-149, one window of 100 rows, 500-599.
ROWS = 1000
WINDOW = [(500, 599)]


def normalised(alerts, windows=WINDOW, rows=ROWS):
    return score_file(rows, windows, alerts).normalised


def test_sigmoid_by_hand():
    # 2 / (1 + e^(5y)) - 1: e^-5 = 0.0067379, e^-2.5 = 0.082085, e^-0.5 = 0.60653.
    assert sigmoid(-1.0) == pytest.approx(0.986614, abs=1e-6)
    assert sigmoid(-0.5) == pytest.approx(0.848284, abs=1e-6)
    assert sigmoid(0.0) == 0.0
    assert sigmoid(3.5) == -1.0


def test_perfect_detector_scores_100_and_null_detector_0():
    assert normalised([500]) == pytest.approx(100.0)
    assert normalised([]) == pytest.approx(0.0)
    two = [(300, 349), (700, 799)]
    assert normalised([300, 700], two) == pytest.approx(100.0)
    assert normalised([], two) == pytest.approx(0.0)


def test_one_false_positive_far_from_windows_costs_a_fp():
    score = score_file(ROWS, WINDOW, [500, 300])
    assert score.fp_cost == pytest.approx(-0.11)
    # raw 1 - 0.11 between null -1 and perfect 1: (0.89 + 1) / 2.
    assert score.normalised == pytest.approx(94.5)


def test_false_positive_soon_after_a_window_costs_less_than_a_late_one():
    just_after = score_file(ROWS, WINDOW, [500, 600]).fp_cost
    # y = (600 - 599) / 100 = 0.01: 0.11 * (2 / (1 + e^0.05) - 1) = -0.11 * 0.0249948.
    assert just_after == pytest.approx(-0.11 * 0.0249948, rel=1e-4)
    far = score_file(ROWS, WINDOW, [500, 950]).fp_cost   # y = 3.51 > 3: the whole cost
    assert far == pytest.approx(-0.11)


def test_an_early_detection_scores_more_than_a_late_one():
    early, middle, late = normalised([500]), normalised([550]), normalised([590])
    assert early > middle > late > 50.0
    # At the centre y = -0.5: 0.848284 / 0.986614 = 0.859794 of A_TP.
    assert middle == pytest.approx((0.859794 + 1) / 2 * 100, abs=1e-3)
    # Ten rows before the end, y = -0.1: 0.244919 / 0.986614 = 0.248242.
    assert late == pytest.approx((0.248242 + 1) / 2 * 100, abs=1e-3)


def test_only_the_first_detection_in_a_window_counts():
    assert normalised([550, 500, 520, 599]) == pytest.approx(100.0)
    assert normalised([550, 560]) == pytest.approx(normalised([550]))


def test_a_missed_window_costs_a_fn():
    two = [(300, 349), (700, 799)]
    score = score_file(ROWS, two, [300])
    assert score.raw == pytest.approx(1.0 - 1.0) and score.detected == 1
    assert score.normalised == pytest.approx(50.0)


def test_probationary_period_is_ignored():
    assert probation_rows(1000) == 150
    assert probation_rows(10_000) == 750   # 15%, at most 750 rows
    assert normalised([0, 10, 149]) == pytest.approx(0.0)
    assert score_file(ROWS, WINDOW, [10, 149]).alerts == 0
    # A window ending inside the probationary period is not scored at all.
    early = score_file(ROWS, [(100, 140), (500, 599)], [500])
    assert (early.windows, early.normalised) == (1, pytest.approx(100.0))


def test_window_starting_in_probation_counts_from_its_first_scorable_row():
    score = score_file(ROWS, [(100, 199)], [150])
    assert score.normalised == pytest.approx(100.0)


def test_corpus_normalisation_sums_files_and_counts_events():
    with_window = score_file(ROWS, WINDOW, [500])
    without = score_file(ROWS, [], [400, 800])
    assert without.normalised is None and without.fp_cost == pytest.approx(-0.22)
    total = summarise([with_window, without])
    assert total.score == pytest.approx((1 - 0.22 + 1) / 2 * 100)
    assert (total.alerts, total.true_alerts, total.windows, total.detected) == (3, 1, 1, 1)
    assert total.precision == pytest.approx(1 / 3) and total.recall == 1.0
    assert total.f1 == pytest.approx(0.5)


def test_overlapping_windows_are_refused():
    with pytest.raises(ValueError):
        score_file(ROWS, [(200, 300), (250, 400)], [])


def test_scores_stay_finite_for_degenerate_windows():
    score = score_file(ROWS, [(500, 500)], [500])
    assert math.isfinite(score.raw) and score.normalised == pytest.approx(100.0)
