"""The anomaly views and the baseline under them, and the defaults on a smooth seasonal series."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from actors.worker.baseline import choose_period, fit_baseline
from actors.worker.detection import judge_points
from actors.worker.detector import AnomalySettings, Detector
from actors.worker.views import (
    ViewState,
    forecast_surprise,
    normal_surprise,
    observe,
    tail_surprise,
)

DAY = 86400
HOUR = 3600


def daily(n: int, noise: float = 0.2, seed: int = 1) -> tuple[list[int], list[float]]:
    rng = random.Random(seed)
    stamps = [1_700_000_000 + i * HOUR for i in range(n)]
    values = [50 + 10 * math.sin(2 * math.pi * i / 24) + rng.gauss(0, noise) for i in range(n)]
    return stamps, values


def test_surprise_scales():
    assert normal_surprise(1.959964) == pytest.approx(-math.log10(0.05), abs=1e-4)
    assert normal_surprise(100.0) == 50.0  # capped, and finite
    # Up to q99 the exponential law; beyond it one decade per (q999 - q99).
    assert tail_surprise(1.0, 2.0, 3.0) == 1.0
    assert tail_surprise(4.0, 2.0, 3.0) == 4.0
    # The band's half-width on the point's side is z(level) sigma.
    band = (10.0, 8.0, 14.0)
    assert forecast_surprise(14.0, band, 0.95) == pytest.approx(-math.log10(0.05), abs=1e-3)
    assert forecast_surprise(8.0, band, 0.95) == pytest.approx(-math.log10(0.05), abs=1e-3)


def test_baseline_finds_the_daily_period_and_its_shape():
    _, values = daily(24 * 14)
    assert choose_period(np.asarray(values), HOUR) == 24
    base = fit_baseline(np.asarray(values), HOUR)
    assert base.period == 24
    expected = [base.expected(h) for h in range(24)]
    truth = [50 + 10 * math.sin(2 * math.pi * (24 * 14 + h) / 24) for h in range(24)]
    assert max(abs(e - t) for e, t in zip(expected, truth, strict=True)) < 0.5
    assert 0 < base.q99 < base.q999


def test_cold_start_baseline_from_twenty_points_uses_the_mad():
    base = fit_baseline(np.asarray([10.0, 11.0] * 10), 60)
    assert base.period == 0 and base.level == 10.5 and base.q99 > 0


def test_observe_uses_only_points_before_the_first_judged():
    stamps, values = daily(24 * 10)
    first = observe(stamps[:220], values[:220], 200, ViewState())
    changed = values[:200] + [v + 100 for v in values[200:220]]
    again = observe(stamps[:220], changed, 200, ViewState())
    assert [o.baseline for o in first] == [o.baseline for o in again]
    assert all(o.surprise["seasonal"] > 10 for o in again)


def test_a_shift_too_small_for_any_point_is_found_by_the_level_view():
    stamps, values = daily(24 * 10, noise=0.3)
    base = fit_baseline(np.asarray(values[:200]), HOUR)
    shifted = values[:200] + [v + 1.4 * base.q99 for v in values[200:220]]
    seen = observe(stamps[:220], shifted, 200, ViewState())
    # Most points alone stay below the default 4; their mean does not.
    assert sorted(o.surprise["seasonal"] for o in seen)[len(seen) // 2] < 4
    assert seen[-1].surprise["level"] > 4


def test_a_burst_of_noise_is_found_by_the_spread_view():
    stamps, values = daily(24 * 10, noise=0.3)
    rng = random.Random(5)
    state = ViewState()
    calm = observe(stamps[:220], values[:220], 180, state)  # the views' memory fills
    assert max(o.surprise.get("spread", 0.0) for o in calm) < 4
    noisy = values[:220] + [v + rng.choice((-1, 1)) * 1.5 for v in values[220:240]]
    seen = observe(stamps[:240], noisy, 220, state)
    assert max(o.surprise.get("spread", 0.0) for o in seen) > 4


def test_a_smooth_seasonal_series_stays_quiet_with_the_defaults():
    # Like the demo's weekly CO2: a yearly cycle, a trend, small noise, nothing unusual. Judged
    # as the pipeline judges it, 20 points per job, with the shipped defaults (no settings).
    rng = random.Random(7)
    week = 7 * DAY
    n = 2500
    stamps = [1_000_000_000 + i * week for i in range(n)]
    values = [315 + 0.03 * i + 3 * math.sin(2 * math.pi * i / 52) + rng.gauss(0, 0.3)
              for i in range(n)]
    detector = Detector(AnomalySettings.parse(None))
    anomalies = judged = 0
    for end in range(600, n + 1, 20):
        state = detector.state.to_json()
        detector = Detector(AnomalySettings.parse(None), state)
        detection = judge_points(detector, stamps[:end], values[:end])
        anomalies += len(detection.anomalies)
        judged += detection.judged
    assert judged == n - 600 + 580  # the first job judges its backlog after 20 points
    assert anomalies <= judged / 100
