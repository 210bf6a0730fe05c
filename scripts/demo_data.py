"""Demo series: real CO2 data shipped with statsmodels, and a synthetic hourly CPU load."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

WEEK_MS = 7 * 24 * 3600 * 1000
HOUR_MS = 3600 * 1000
#: 2000-01-01T00:00:00Z in ms: SiriDB timestamps are >= 0, so 1958's data is moved here.
BASE_MS = 946_684_800_000


def co2_values() -> list[float]:
    """Mauna Loa weekly CO2 (ppm), 1958-2001, gaps interpolated (statsmodels' data set)."""
    from statsmodels.datasets import co2

    series = co2.load_pandas().data["co2"].interpolate().bfill()
    return [round(float(v), 3) for v in series]


def co2_points() -> list[list[float]]:
    """The CO2 data as [[ts_ms, ppm], ...] on a weekly grid starting at BASE_MS."""
    return [[BASE_MS + i * WEEK_MS, v] for i, v in enumerate(co2_values())]


def co2_continuation(history: list[float], start_ts: int, seed: int = 7) -> Iterator[list]:
    """Endless weekly points continuing the data: last year's shape, the trend, some noise.

    Every 150th point is a spike so that anomaly detection has something to find.
    """
    rng = random.Random(seed)
    values = list(history)
    ts = start_ts
    n = 0
    while True:
        n += 1
        trend = (values[-1] - values[-53]) if len(values) > 53 else 0.0
        base = values[-52] + trend if len(values) > 52 else values[-1]
        value = base + rng.gauss(0, 0.25)
        if n % 150 == 0:
            value += 6.0
        values.append(value)
        del values[:-60]
        yield [ts, round(value, 3)]
        ts += WEEK_MS


def cpu_points(start_ts: int, count: int, seed: int = 3) -> Iterator[list]:
    """Hourly CPU load (%) with a daily cycle, a weekly dip and noise; a spike now and then."""
    rng = random.Random(seed)
    for i in range(count):
        hour = (i % 24) / 24.0
        day = (i // 24) % 7
        value = 35 + 25 * math.sin(2 * math.pi * (hour - 0.25)) - (8 if day >= 5 else 0)
        value += rng.gauss(0, 3)
        if i > 0 and i % 211 == 0:
            value += 40
        yield [start_ts + i * HOUR_MS, round(max(0.0, value), 2)]
