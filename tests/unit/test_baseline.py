"""The baseline's vectorised medians against their definitions, written out point by point."""

from __future__ import annotations

import math
import random
import statistics

import numpy as np
import pytest

from actors.worker.baseline import (
    CYCLES,
    ERROR_POINTS,
    LEVEL_POINTS,
    NEIGHBOURS,
    _shifted_medians,
    fit_baseline,
    history_points,
    one_step_errors,
)


def noisy(n: int, seed: int = 7) -> np.ndarray:
    rng = random.Random(seed)
    return np.array([10 * math.sin(2 * math.pi * i / 24) + rng.gauss(0, 1) for i in range(n)])


@pytest.mark.parametrize("chunk", [1, 20])
def test_one_step_errors_hold_the_level_of_each_chunk(chunk):
    d = noisy(300)
    got = one_step_errors(d, LEVEL_POINTS, chunk)
    want = []
    for i in range(LEVEL_POINTS, len(d)):
        begun = i - (i - LEVEL_POINTS) % chunk  # the first point of i's chunk
        want.append(d[i] - statistics.median(d[begun - LEVEL_POINTS:begun]))
    assert got == pytest.approx(want, abs=1e-12)


def test_shifted_medians_at_the_edges_use_the_cycles_there_are():
    y = noisy(200)
    period = 24
    got = _shifted_medians(y, period, 20, 230)  # rows before any cycle and beyond the history
    for row, t in enumerate(range(20, 230)):
        around = [y[t - j * period + k] for j in range(1, CYCLES + 1)
                  for k in range(-NEIGHBOURS, NEIGHBOURS + 1) if 0 <= t - j * period + k < len(y)]
        if around:
            assert got[row] == pytest.approx(statistics.median(around), abs=1e-12)
        else:
            assert math.isnan(got[row])


def test_the_calibration_window_is_the_errors_the_tail_is_fitted_on():
    y = noisy(8000)
    short, long = fit_baseline(y, 3600, error_points=500), fit_baseline(y, 3600)
    # Errors as judged: one per point of the window (the history is longer than both).
    assert len(short.errors) == 500 and len(long.errors) == ERROR_POINTS
    assert history_points(500) < history_points() == history_points(ERROR_POINTS)

