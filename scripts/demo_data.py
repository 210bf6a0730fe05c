"""Demo series: real CO2 data, and synthetic sensors that stay in range with planted incidents.

Every synthetic value is a function of its index alone (its noise drawn from a generator
seeded by series and index), so a restarted demo continues exactly where SiriDB ends. The
sensors repeat a cycle of CYCLE_DAYS simulated days; each cycle holds the four incidents in
INCIDENTS, one of each kind, and is otherwise normal behaviour: a daily shape plus noise.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

WEEK_MS = 7 * 24 * 3600 * 1000
#: 2000-01-01T00:00:00Z in ms: SiriDB timestamps are >= 0, so 1958's data is moved here.
BASE_MS = 946_684_800_000
#: 2025-01-01T00:00:00Z in ms: where the sensors' history starts.
SENSOR_BASE_MS = 1_735_689_600_000
STEP_MS = 10 * 60 * 1000  # one sensor point every 10 simulated minutes
PER_DAY = 24 * 3600 * 1000 // STEP_MS  # 144
CYCLE_DAYS = 4
CYCLE = CYCLE_DAYS * PER_DAY  # 576 points
#: Points of clean history loaded before the live feed: a week, enough to train on.
SENSOR_HISTORY = 7 * PER_DAY
#: CO2 weeks held back from the history and fed live (real data, so it stays in range).
CO2_LIVE = 300


@dataclass(frozen=True)
class Incident:
    """One planted incident: where in the cycle (points from the cycle's start) and what."""

    series: str
    kind: str
    start: int
    length: int
    what: str

    def covers(self, index: int) -> bool:
        """Whether the sensor point at index (from the history's start) is in this incident."""
        return index >= SENSOR_HISTORY and self.start <= (index - SENSOR_HISTORY) % CYCLE \
            < self.start + self.length


def _at(day: float) -> int:
    return int(day * PER_DAY)


INCIDENTS = (
    Incident("demo.cpu", "spike", _at(0.6), 1, "one reading +45 % (a runaway job)"),
    Incident("demo.temperature", "level_shift", _at(1.4), 36,
             "+4 degC for 6 hours (a cooling unit fails, then is repaired)"),
    Incident("demo.latency", "variance_change", _at(2.3), 24,
             "the noise grows six-fold for 4 hours (a flapping network link)"),
    Incident("demo.humidity", "stuck_value", _at(3.1), 36,
             "the sensor repeats its last reading for 6 hours"),
)


@dataclass(frozen=True)
class Sensor:
    """A synthetic sensor: unit, bounds, daily shape and noise."""

    name: str
    unit: str
    level: float
    amplitude: float
    noise: float
    low: float
    high: float
    model: str
    #: The series' anomaly settings (POST /series `anomaly`): what an operator of such a
    #: sensor would choose. min_deviation: smaller deviations are noise, whatever the model.
    anomaly: tuple[tuple[str, float], ...] = (("event_gap", 12),)

    def normal(self, index: int) -> float:
        """The normal reading at index: the daily shape plus noise."""
        phase = 2 * math.pi * ((index % PER_DAY) / PER_DAY - 0.25)
        return self.level + self.amplitude * math.sin(phase) + self.noise * _gauss(self.name, index)


SENSORS = (
    Sensor("demo.cpu", "%", 35.0, 20.0, 2.0, 0.0, 100.0, "ets",
           (("event_gap", 12), ("min_deviation", 10.0))),
    Sensor("demo.temperature", "degC", 22.0, 0.3, 0.15, 10.0, 40.0, "ets",
           (("event_gap", 12), ("min_deviation", 1.5))),
    Sensor("demo.latency", "ms", 120.0, 15.0, 3.0, 1.0, 1000.0, "ets",
           (("event_gap", 12), ("min_deviation", 12.0))),
    Sensor("demo.humidity", "%", 45.0, 5.0, 0.4, 0.0, 100.0, "ets",
           (("event_gap", 12), ("min_deviation", 2.0))),
)
SENSOR_BY_NAME = {s.name: s for s in SENSORS}
#: The demo series' rules (POST /series `rules`, docs/rules.md): the CPU's daily peak
#: (about 55 %) is forecast to pass 50 % within the next day, so its forecast rule fires and
#: /series/demo.cpu shows when (`rule_states.cpu-busy.crossing_at`); a forecast whose peak
#: lands just under 50 % does not resolve it until none has crossed for 12 hours of data
#: (`keep_firing_for`: without it the rule flapped on every other forecast); its data rule
#: fires during the planted spike (+45 %).
RULES = {
    "demo.cpu": [
        {"id": "cpu-busy", "kind": "forecast", "op": "above", "threshold": 50.0,
         "within": "1d", "keep_firing_for": "12h"},
        {"id": "cpu-hot", "kind": "data", "op": "above", "threshold": 80.0},
    ],
}


def _gauss(name: str, index: int) -> float:
    return random.Random(f"{name}:{index}").gauss(0.0, 1.0)


def _planted(sensor: Sensor, incident: Incident, index: int, value: float) -> float:
    offset = (index - SENSOR_HISTORY) % CYCLE - incident.start
    if incident.kind == "spike":
        return value + 45.0
    if incident.kind == "level_shift":
        return value + 4.0
    if incident.kind == "variance_change":
        return value + 5 * sensor.noise * _gauss(sensor.name + "/burst", index)
    if incident.kind == "stuck_value":
        return sensor_value(sensor, index - offset - 1)
    raise ValueError(f"unknown incident kind {incident.kind!r}")


def sensor_value(sensor: Sensor, index: int) -> float:
    """The reading at index (0: the first history point), incidents included, within bounds."""
    value = sensor.normal(index)
    for incident in INCIDENTS:
        if incident.series == sensor.name and incident.covers(index):
            value = _planted(sensor, incident, index, value)
    return round(min(sensor.high, max(sensor.low, value)), 3)


def sensor_ts(index: int) -> int:
    """The timestamp (ms) of the sensor point at index."""
    return SENSOR_BASE_MS + index * STEP_MS


def sensor_points(sensor: Sensor, start: int, stop: int) -> list[list[float]]:
    """[[ts_ms, value], ...] for indexes start..stop-1."""
    return [[sensor_ts(i), sensor_value(sensor, i)] for i in range(start, stop)]


def sensor_stream(sensor: Sensor, after_ts: int) -> Iterator[list[float]]:
    """Endless points after after_ts."""
    index = max(0, (after_ts - SENSOR_BASE_MS) // STEP_MS + 1)
    while True:
        yield [sensor_ts(index), sensor_value(sensor, index)]
        index += 1


def incident_at(index: int) -> Incident | None:
    """The incident that starts at this sensor index, if any (for the demo's running notes)."""
    for incident in INCIDENTS:
        if incident.covers(index) and not incident.covers(index - 1):
            return incident
    return None


def incident_windows(incident: Incident, stop: int) -> list[tuple[int, int]]:
    """(first_ts, last_ts) of each occurrence of incident among indexes below stop."""
    windows = []
    start = SENSOR_HISTORY + incident.start
    while start < stop:
        windows.append((sensor_ts(start), sensor_ts(start + incident.length - 1)))
        start += CYCLE
    return windows


def schedule() -> str:
    """The planted incidents as text (printed by the demo, quoted in the README)."""
    lines = [f"Planted incidents, every {CYCLE_DAYS} simulated days of sensor data:"]
    for incident in INCIDENTS:
        day, rest = divmod(incident.start, PER_DAY)
        clock = f"{rest * STEP_MS // 3_600_000:02d}:{rest * STEP_MS // 60_000 % 60:02d}"
        lines.append(f"  {incident.series:<17} {incident.kind:<15} day {day} {clock}  "
                     f"{incident.what}")
    return "\n".join(lines)


def co2_values() -> list[float]:
    """Mauna Loa weekly CO2 (ppm), 1958-2001, gaps interpolated (statsmodels' data set)."""
    from statsmodels.datasets import co2

    series = co2.load_pandas().data["co2"].interpolate().bfill()
    return [round(float(v), 3) for v in series]


def co2_points() -> list[list[float]]:
    """The CO2 data as [[ts_ms, ppm], ...] on a weekly grid starting at BASE_MS."""
    return [[BASE_MS + i * WEEK_MS, v] for i, v in enumerate(co2_values())]


