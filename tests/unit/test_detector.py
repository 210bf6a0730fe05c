"""The streaming detector's decision: settings, sensitivity, views and their combination,
direction, min deviation, k-of-n, events, state carried between jobs."""

from __future__ import annotations

import math

import pytest

from actors.worker.detector import (
    DEFAULT_SENSITIVITY,
    AnomalySettings,
    Detector,
)
from actors.worker.views import Observation

# Every point is observed against a baseline of 10; the test gives each view's surprise
# (-log10 p). A sensitivity of 1e-4 (the hub's setting here) fires above a surprise of 4.


def obs(ts, value, **surprise):
    deviation = {view: float(value) - 10.0 for view in surprise}
    return Observation(ts, float(value), 10.0, 2.0, None, surprise, deviation)


def seasonal(value):
    """A seasonal surprise of 2 |value - 10|: the score |value - 10| / 2 at 1e-4."""
    return 2.0 * abs(value - 10.0)


def feed(detector, values, start=1):
    return [detector.judge(obs(start + i, v, seasonal=seasonal(v))) for i, v in enumerate(values)]


def anomalous(verdicts):
    return [v.timestamp for v in verdicts if v is not None and v.anomalous]


def make(**settings):
    return Detector(AnomalySettings.parse(settings), sensitivity=1e-4)


def test_settings_defaults_and_round_trip():
    settings = AnomalySettings.parse(None)
    assert settings.to_json() == {"direction": "both", "min_deviation": 0.0, "k": 1, "n": 1,
                                  "event_gap": 100, "sensitivity": None, "views": None,
                                  "combine": None}
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
        ({"sensitivity": 0}, "sensitivity must be a probability"),
        ({"sensitivity": 0.6}, "sensitivity must be a probability"),
        ({"views": "seasonal"}, "views must be a non-empty list"),
        ({"views": ["seasonal", "astrology"]}, "views must be a non-empty list"),
        ({"combine": "majority"}, "combine must be one of any, consensus"),
        ([1], "anomaly settings must be an object"),
    ],
)
def test_bad_settings_are_refused_with_the_key(raw, message):
    with pytest.raises(ValueError, match=message):
        AnomalySettings.parse(raw)


def test_score_is_surprise_over_the_sensitivity_threshold_and_explains_itself():
    detector = Detector()
    verdict = detector.judge(obs(1, 16.0, seasonal=6.0, level=1.0, forecast=3.0))
    # The shipped default: seasonal, level and spread decide, any of them.
    assert verdict.score == pytest.approx(6.0 / -math.log10(DEFAULT_SENSITIVITY))
    assert verdict.view == "seasonal" and verdict.probability == pytest.approx(1e-6)
    assert verdict.surprise == {"seasonal": 6.0, "level": 1.0, "forecast": 3.0}
    # No forecast band: the baseline's own band at the forecast level, around the baseline.
    assert verdict.expected == 10.0 and verdict.lower < 10.0 < verdict.upper
    assert verdict.anomalous and verdict.alert
    quiet = detector.judge(obs(2, 11.0, seasonal=1.0))
    assert not quiet.anomalous and quiet.probability == pytest.approx(0.1)


def test_the_sensitivity_is_per_series_or_global():
    point = obs(1, 15.0, seasonal=5.0)
    assert Detector().judge(point).anomalous                      # 1e-5 < the default
    assert not Detector(sensitivity=1e-6).judge(point).anomalous  # the hub's setting
    strict = AnomalySettings.parse({"sensitivity": 1e-6})
    assert not Detector(strict, sensitivity=1e-2).judge(point).anomalous  # the series wins


def test_the_forecast_band_is_shown_but_only_enabled_views_decide():
    band = (10.0, 9.0, 11.0)
    point = Observation(1, 30.0, 10.0, 2.0, band, {"forecast": 50.0, "seasonal": 1.0},
                        {"forecast": 20.0, "seasonal": 20.0})
    verdict = Detector(AnomalySettings.parse({"views": ["seasonal"]})).judge(point)
    assert (verdict.expected, verdict.lower, verdict.upper) == band
    assert not verdict.anomalous and verdict.view == "seasonal"
    on = Detector(AnomalySettings.parse({"views": ["forecast", "seasonal"]})).judge(point)
    assert on.anomalous and on.view == "forecast"


def test_consensus_needs_two_views_to_agree():
    settings = AnomalySettings.parse({"views": ["seasonal", "level", "spread"],
                                      "combine": "consensus"})
    lone = Detector(settings).judge(obs(1, 30.0, seasonal=20.0, level=1.0, spread=0.5))
    assert not lone.anomalous and lone.view == "level"
    both = Detector(settings, sensitivity=1e-4).judge(
        obs(1, 30.0, seasonal=20.0, level=1.0, spread=6.0))
    assert both.anomalous and both.view == "spread" and both.score == pytest.approx(1.5)


def test_direction_above_and_below():
    values = [10, 15, 10, 5, 10]
    assert anomalous(feed(make(direction="above"), values)) == [2]
    assert anomalous(feed(make(direction="below"), values)) == [4]
    assert anomalous(feed(make(), values)) == [2, 4]
    below_only = feed(make(direction="below"), values)
    assert below_only[1].score == 0.0 and below_only[1].point_score == 2.5


def test_min_deviation_keeps_small_excursions_quiet():
    values = [10, 13, 10, 16]  # deviations 3 and 6, both anomalous
    assert anomalous(feed(make(min_deviation=4.0), values)) == [4]
    assert anomalous(feed(make(min_deviation=3.0), values)) == [2, 4]


def test_k_of_n_persistence():
    detector = make(k=2, n=3)
    # Flagged at 2, 4, 5, 9: the second of two flags within three points is anomalous.
    verdicts = feed(detector, [10, 15, 10, 15, 15, 10, 10, 10, 15])
    assert anomalous(verdicts) == [4, 5]
    assert [v.score > 1 for v in verdicts] == [False, True, False, True, True, False, False,
                                               False, True]


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
    second = Detector(first.settings, first.state.to_json(), sensitivity=1e-4)
    part += feed(second, values[6:], start=7)
    assert part == expected
    assert second.state.to_json() == whole.state.to_json()


def test_points_already_judged_are_skipped():
    detector = Detector(sensitivity=1e-4)
    feed(detector, [10, 15, 10])
    again = Detector(detector.settings, detector.state.to_json(), sensitivity=1e-4)
    assert feed(again, [15, 15, 15]) == [None, None, None]
    assert again.judge(obs(4, 15.0, seasonal=10.0)).anomalous


def test_malformed_state_starts_afresh():
    detector = Detector(None, {"flags": "x", "last_ts": "soon"})
    assert detector.state.last_ts is None and detector.state.flags == []
    broken = Detector(None, {"last_ts": 5, "event": {"id": 1, "start": 1}})
    assert broken.state.last_ts is None and broken.state.event is None
    assert broken.judge(obs(6, 15.0, seasonal=10.0)).alert
