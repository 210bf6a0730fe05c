"""The streaming detector: settings, direction, min deviation, k-of-n, sustained shifts, events,
state carried between jobs, cold start."""

from __future__ import annotations

import pytest

from actors.worker.detector import (
    MEAN_WINDOW,
    AnomalySettings,
    Detector,
    cold_start_intervals,
    normal_z,
    robust_interval,
)

# Every point is judged against expected 10 with the interval [8, 12] (half-width 2).


def feed(detector, values, start=1):
    return [detector.judge(start + i, v, 10.0, 8.0, 12.0) for i, v in enumerate(values)]


def anomalous(verdicts):
    return [v.timestamp for v in verdicts if v is not None and v.anomalous]


def make(**settings):
    return Detector(AnomalySettings.parse(settings))


def test_settings_defaults_and_round_trip():
    settings = AnomalySettings.parse(None)
    assert settings.to_json() == {"direction": "both", "min_deviation": 0.0, "k": 1, "n": 1,
                                  "event_gap": 100}
    assert AnomalySettings.parse(settings.to_json()) == settings
    assert AnomalySettings.parse({"min_deviation": 2}).min_deviation == 2.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"direction": "up"}, "direction must be one of both, above, below"),
        ({"min_deviation": -1}, "min_deviation must be a finite number >= 0"),
        ({"min_deviation": True}, "min_deviation must be a finite number >= 0"),
        ({"k": 0}, "k must be an integer from 1 to 1000"),
        ({"n": 2.0}, "n must be an integer from 1 to 1000"),
        ({"k": 3, "n": 2}, "k must not exceed n"),
        ({"event_gap": 0}, "event_gap must be an integer from 1"),
        ({"kn": 1}, "unknown key 'kn'"),
        ([1], "anomaly settings must be an object"),
    ],
)
def test_bad_settings_are_refused_with_the_key(raw, message):
    with pytest.raises(ValueError, match=message):
        AnomalySettings.parse(raw)


def test_point_score_is_deviation_over_the_half_width_on_its_side():
    detector = Detector()
    above = detector.judge(1, 13.0, 10.0, 9.0, 12.0)   # upper side half-width 2
    below = detector.judge(2, 8.0, 10.0, 9.0, 12.0)    # lower side half-width 1
    inside = detector.judge(3, 11.0, 10.0, 9.0, 12.0)
    assert (above.point_score, below.point_score, inside.point_score) == (1.5, 2.0, 0.5)
    assert (above.anomalous, below.anomalous, inside.anomalous) == (True, True, False)


def test_direction_above_and_below():
    values = [10, 15, 10, 5, 10]
    assert anomalous(feed(make(direction="above"), values)) == [2]
    assert anomalous(feed(make(direction="below"), values)) == [4]
    assert anomalous(feed(make(), values)) == [2, 4]
    below_only = feed(make(direction="below"), values)
    assert below_only[1].score == 0.0 and below_only[1].point_score == 2.5


def test_min_deviation_keeps_small_excursions_quiet():
    values = [10, 13, 10, 16]  # deviations 3 and 6, both outside the interval
    assert anomalous(feed(make(min_deviation=4.0), values)) == [4]
    assert anomalous(feed(make(min_deviation=3.0), values)) == [2, 4]


def test_k_of_n_persistence():
    detector = make(k=2, n=3)
    # Flagged at 2, 4, 5, 9: the second of two flags within three points is anomalous.
    verdicts = feed(detector, [10, 15, 10, 15, 15, 10, 10, 10, 15])
    assert anomalous(verdicts) == [4, 5]
    assert [v.score > 1 for v in verdicts] == [False, True, False, True, True, False, False,
                                               False, True]


def test_a_sustained_shift_inside_the_interval_is_found_by_the_mean():
    # Each point 1.4 above expected: 0.7 of the half-width, never outside the interval;
    # the mean of MEAN_WINDOW of them is 1.4 / (0.6 * 2) = 1.17 of the mean's half-width.
    verdicts = feed(make(), [11.4] * MEAN_WINDOW)
    assert all(v.point_score == pytest.approx(0.7) for v in verdicts)
    assert anomalous(verdicts) == [MEAN_WINDOW]
    assert verdicts[-1].mean_score == pytest.approx(1.4 / 1.2)
    assert anomalous(feed(make(), [11.0] * MEAN_WINDOW)) == []   # 0.5 / 0.6 < 1


def test_events_open_extend_close_and_keep_their_peak():
    detector = make(event_gap=3)
    verdicts = feed(detector, [15, 16, 10, 14, 10, 10, 10, 15])
    assert [v.timestamp for v in verdicts if v.alert] == [1, 8]
    events = detector.events()
    assert events == [
        {"id": 1, "start": 1, "end": 4, "peak": 3.0, "peak_ts": 2, "points": 3,
         "state": "closed"},
        {"id": 8, "start": 8, "end": 8, "peak": 2.5, "peak_ts": 8, "points": 1,
         "state": "open"},
    ]


def test_an_event_alerts_again_when_its_score_doubles():
    detector = make()
    verdicts = feed(detector, [13, 14, 16, 17, 23])  # scores 1.5, 2, 3, 3.5, 6.5
    assert [v.timestamp for v in verdicts if v.alert] == [1, 3, 5]
    assert len(detector.events()) == 1


def test_state_carries_over_between_jobs():
    values = [10, 15, 10, 15, 15, 10, 10, 11.4, 12, 15, 10, 5, 10, 10]
    whole = make(k=2, n=3, event_gap=2)
    expected = feed(whole, values)
    first = make(k=2, n=3, event_gap=2)
    part = feed(first, values[:6])
    second = Detector(first.settings, first.state.to_json())
    part += feed(second, values[6:], start=7)
    assert part == expected
    assert second.state.to_json() == whole.state.to_json()


def test_points_already_judged_are_skipped():
    detector = Detector()
    feed(detector, [10, 15, 10])
    again = Detector(detector.settings, detector.state.to_json())
    assert feed(again, [15, 15, 15]) == [None, None, None]
    assert again.judge(4, 15.0, 10.0, 8.0, 12.0).anomalous
    assert detector.judge(5, float("nan"), 10.0, 8.0, 12.0) is None


def test_malformed_state_starts_afresh():
    detector = Detector(None, {"flags": "x", "last_ts": "soon"})
    assert detector.state.last_ts is None and detector.state.flags == []
    broken = Detector(None, {"last_ts": 5, "event": {"id": 1, "start": 1}})
    assert broken.state.last_ts is None and broken.state.event is None
    assert broken.judge(6, 15.0, 10.0, 8.0, 12.0).alert


def test_robust_interval_uses_median_and_mad():
    median, lower, upper = robust_interval([1, 2, 3, 4, 100], 0.95)
    # median 3, MAD 1 (deviations 2, 1, 0, 1, 97): the outlier does not widen it.
    assert median == 3.0
    assert upper - median == pytest.approx(normal_z(0.95) * 1.4826)
    assert median - lower == pytest.approx(upper - median)


def test_robust_interval_with_zero_mad_falls_back_to_mean_deviation():
    median, lower, upper = robust_interval([0, 0, 0, 0, 5], 0.95)
    assert median == 0.0 and upper == pytest.approx(normal_z(0.95) * 1.2533 * 1.0)
    assert robust_interval([7, 7, 7], 0.95) == (7.0, 7.0, 7.0)


def test_cold_start_uses_only_earlier_points():
    values = [10.0 + (i % 3) for i in range(40)]
    intervals = cold_start_intervals(values, 0, 0.99, window=25)
    assert [i for i, *_ in intervals] == list(range(20, 40))
    changed = values[:30] + [1000.0] * 10
    assert cold_start_intervals(changed, 0, 0.99, window=25)[:11] == intervals[:11]
    detector = Detector()
    verdicts = [detector.judge(i, changed[i], *bounds)
                for i, *bounds in cold_start_intervals(changed, 0, 0.99, window=25)]
    assert anomalous(verdicts)[0] == 30
