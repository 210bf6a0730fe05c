"""The demo's sensors: in range, resumable, and their planted incidents found by the worker's
real job code (models and detector), with few alarms elsewhere."""

from __future__ import annotations

import statistics

import pytest

from scripts.demo_data import (
    CYCLE,
    INCIDENTS,
    SENSOR_HISTORY,
    SENSORS,
    STEP_MS,
    incident_windows,
    schedule,
    sensor_points,
    sensor_stream,
)
from tests.support.demo_pipeline import run_sensor

#: An event belongs to an incident when it opens in it or up to this many points after its
#: end (a level shift that ends is a second change: the repair).
AFTER = 12
#: Live points fed: one whole cycle of incidents and a little of the next quiet stretch.
LIVE = CYCLE + 48


@pytest.mark.parametrize("sensor", SENSORS, ids=lambda s: s.name)
def test_sensors_stay_in_range_and_do_not_drift(sensor):
    values = [v for _, v in sensor_points(sensor, 0, SENSOR_HISTORY + 10 * CYCLE)]
    assert sensor.low <= min(values) and max(values) <= sensor.high
    # Each live cycle holds the same incidents: their means agree (the old CO2 feed grew
    # without bound; these must not).
    means = [statistics.fmean(values[i:i + CYCLE])
             for i in range(SENSOR_HISTORY, len(values), CYCLE)]
    assert max(means) - min(means) < sensor.noise, means


def test_stream_resumes_after_the_last_point():
    sensor = SENSORS[0]
    history = sensor_points(sensor, 0, 50)
    stream = sensor_stream(sensor, history[-1][0])
    assert [next(stream) for _ in range(3)] == sensor_points(sensor, 50, 53)


def test_every_incident_is_written_down():
    text = schedule()
    assert {s.name for s in SENSORS} == {i.series for i in INCIDENTS}
    assert {i.kind for i in INCIDENTS} == {"spike", "level_shift", "variance_change",
                                          "stuck_value"}
    for incident in INCIDENTS:
        assert incident.series in text and incident.kind in text and incident.what in text


def test_the_detector_finds_the_planted_incidents_and_little_else():
    false_events, judged, false_points = [], 0, 0
    for sensor in SENSORS:
        run = run_sensor(sensor, LIVE)
        windows = [(first, last + AFTER * STEP_MS)
                   for incident in INCIDENTS if incident.series == sensor.name
                   for first, last in incident_windows(incident, SENSOR_HISTORY + LIVE)]
        assert windows
        for first, last in windows:
            found = [e for e in run.events.values() if first <= e["start"] <= last]
            assert found, f"{sensor.name}: no event for the incident at {first}: {run.events}"
        outside = [e for e in run.events.values()
                   if not any(first <= e["start"] <= last for first, last in windows)]
        false_events += [(sensor.name, e) for e in outside]
        judged += run.judged
        false_points += sum(1 for a in run.anomalies
                            if not any(first <= a["timestamp"] <= last for first, last in windows))
    days = len(SENSORS) * LIVE * STEP_MS / 86_400_000
    print(f"\ndemo detection: {len(false_events)} false events in {days:.1f} sensor-days "
          f"({false_points} of {judged} judged points outside incidents anomalous)")
    # Robust to the detector improving (fewer) and to small model changes: at most one false
    # event per sensor per cycle, and under 1 % of the quiet points.
    assert len(false_events) <= len(SENSORS), false_events
    assert false_points <= 0.01 * judged
