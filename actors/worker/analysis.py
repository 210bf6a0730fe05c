"""Base analysis of a series, made when it is trained: what its points say about it.

Sampling interval and regularity, gaps, trend, seasonal periods and their strength, noise,
a flat line at the end, staleness, and a health verdict with its reasons. The hub keeps it
(GET /series/{name} `analysis`), converts time spans to steps with the interval found, and
watches for the series going stale with it. Every time is in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: A step more than this many intervals long is a gap.
GAP_FACTOR = 3.0
#: A sampling step within this share of the interval counts as regular.
REGULAR_TOLERANCE = 0.1
#: Fewest points worth analysing.
MIN_POINTS = 8
#: Points the seasonal search works on (a longer series is averaged down to this).
MAX_GRID = 16384
#: A period whose profile explains this share of the variance (beyond chance) is a season.
MIN_SEASON_STRENGTH = 0.3
#: Cycles a season must show at least in the points analysed.
MIN_CYCLES = 4
#: Trailing equal values from which a series is a flat line.
FLAT_POINTS = 10
#: No point for this many intervals: stale.
STALE_FACTOR = 10.0
MAX_PERIODS = 3
MAX_GAPS = 5


def _grid(seconds: np.ndarray, values: np.ndarray, interval: float) -> tuple[np.ndarray, int]:
    """The values on a regular grid of the interval (interpolated across gaps), averaged
    down to at most MAX_GRID points; and how many intervals one grid step is."""
    steps = int((seconds[-1] - seconds[0]) / interval) + 1
    grid = np.interp(seconds[0] + np.arange(steps) * interval, seconds, values)
    factor = max(1, -(-steps // MAX_GRID))
    if factor > 1:
        usable = steps // factor * factor
        grid = grid[:usable].reshape(-1, factor).mean(axis=1)
    return grid, factor


def _candidates(x: np.ndarray, count: int = 5) -> list[float]:
    """Periods (in points) of the strongest frequencies of x with at least MIN_CYCLES
    cycles in it, strongest first."""
    power = np.abs(np.fft.rfft(x)) ** 2
    if len(power) <= MIN_CYCLES + 1:
        return []
    order = MIN_CYCLES + np.argsort(power[MIN_CYCLES:])[::-1][:count]
    return [len(x) / k for k in order if power[k] > 0]


def _profile(x: np.ndarray, period: int) -> np.ndarray:
    """The mean of x at each phase of period, repeated over x."""
    phases = np.arange(len(x)) % period
    return (np.bincount(phases, x) / np.maximum(np.bincount(phases), 1))[phases]


def _strength(x: np.ndarray, lag: int) -> float:
    """The share of x's variance (slower movements taken out by a moving average of lag
    points) the profile of period lag explains beyond chance (1/cycles): 0 for noise, 1
    for a pure season."""
    sums = np.cumsum(np.r_[0.0, x])
    mean = (sums[lag:] - sums[:-lag]) / lag
    start = (lag - 1) // 2
    fast = x[start:start + len(mean)] - mean
    total = float(np.var(fast))
    if len(fast) < MIN_CYCLES * lag or total == 0:
        return 0.0
    chance = lag / len(fast)
    explained = 1.0 - float(np.var(fast - _profile(fast, lag))) / total
    return max(0.0, (explained - chance) / (1.0 - chance))


def _best_lag(x: np.ndarray, period: float) -> tuple[float, int]:
    """The whole number of points within 1 % of period whose profile explains the most."""
    near = int(round(period))
    width = max(2, near // 100)
    return max((_strength(x, lag), lag) for lag in range(max(2, near - width), near + width + 1))


def seasons(detrended: np.ndarray, step: float) -> list[dict[str, Any]]:
    """Seasonal periods, clearest first: of the periodogram's five strongest frequencies
    the one whose profile explains most of the variance (beyond chance, at least
    MIN_SEASON_STRENGTH); then the same on what is left once that profile is taken out,
    and so on. A season whose period divides a stronger one's (a day in a week) goes with
    that one's profile: only the longer is reported. step: seconds per point."""
    rest = detrended
    found: list[dict[str, Any]] = []
    while len(found) < MAX_PERIODS and len(rest) >= 8 and np.ptp(rest) > 0:
        scored = [_best_lag(rest, period) for period in _candidates(rest)]
        if not scored:
            break
        # The clearest; of equally clear ones (a period and its multiples), the shortest.
        strength, lag = max(scored, key=lambda c: (round(c[0], 2), -c[1]))
        if strength < MIN_SEASON_STRENGTH or any(f["lag"] == lag for f in found):
            break
        found.append({"points": float(lag), "period": float(lag * step),
                      "strength": round(strength, 3), "lag": lag})
        rest = rest - _profile(rest, lag)
    return found


def _components(grid: np.ndarray, periods: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The linear trend of grid and what is left once trend and seasons are taken out."""
    x = np.arange(len(grid))
    trend = np.polyval(np.polyfit(x, grid, 1), x)
    rest = grid - trend
    for period in periods:
        rest = rest - _profile(rest, period)
    return trend, rest


def _trend(trend: np.ndarray, rest: np.ndarray, step: float) -> dict[str, Any]:
    """Slope (per second), change over the span, and strength: 1 - var(rest) /
    var(rest + trend), 0 without trend, 1 when the trend is all there is."""
    change = float(trend[-1] - trend[0])
    slope = change / (step * (len(trend) - 1)) if len(trend) > 1 else 0.0
    total = float(np.var(rest + trend))
    strength = 0.0 if total == 0 else max(0.0, 1.0 - float(np.var(rest)) / total)
    direction = "flat"
    if strength >= 0.3:
        direction = "up" if change > 0 else "down"
    return {"direction": direction, "slope": slope, "change": change,
            "strength": round(strength, 3)}


def _noise(rest: np.ndarray) -> float:
    """The robust spread (MAD, scaled to a normal's sd) of the point-to-point changes of
    what trend and seasons leave, over sqrt(2): white noise's sd, blind to slow wander."""
    steps = np.diff(rest)
    return float(1.4826 * np.median(np.abs(steps - np.median(steps))) / np.sqrt(2))


def _flat_points(values: np.ndarray) -> int:
    changed = np.flatnonzero(values != values[-1])
    return len(values) if len(changed) == 0 else int(len(values) - 1 - changed[-1])


def analyse(timestamps: Sequence[int], values: Sequence[float], unit: float,
            now: float) -> dict[str, Any]:
    """The base analysis of points (timestamps in ticks of `unit` seconds), judged at `now`
    (wall-clock seconds)."""
    seconds = np.asarray(timestamps, dtype=float) * unit
    vals = np.asarray(values, dtype=float)
    keep = np.isfinite(vals)
    seconds, vals = seconds[keep], vals[keep]
    out: dict[str, Any] = {"points": int(len(vals))}
    if len(vals) < MIN_POINTS:
        return {**out, "health": "bad",
                "reasons": [f"too few points to analyse ({len(vals)} < {MIN_POINTS})"]}
    steps = np.diff(seconds)
    positive = steps[steps > 0]
    if not len(positive):
        return {**out, "health": "bad", "reasons": ["every point has the same timestamp"]}
    interval = float(np.median(positive))
    regular = float(np.mean(np.abs(steps - interval) <= REGULAR_TOLERANCE * interval))
    gap_at = np.flatnonzero(steps > GAP_FACTOR * interval)
    missing = int(np.sum(np.round(steps[gap_at] / interval) - 1)) if len(gap_at) else 0
    span = float(seconds[-1] - seconds[0])
    spread = float(np.std(vals))
    grid, factor = _grid(seconds, vals, interval)
    trend, _ = _components(grid, ())
    found = seasons(grid - trend, interval * factor)
    trend, rest = _components(grid, [f.pop("lag") for f in found])
    for season in found:  # in intervals of the series, not of the grid
        season["points"] = round(season["points"] * factor, 2)
    noise = _noise(rest)
    flat = _flat_points(vals)
    age = max(0.0, float(now) - float(seconds[-1]))
    out.update(
        first=float(seconds[0]), last=float(seconds[-1]), span=span,
        interval=interval, regularity=round(regular, 3),
        gaps={"count": int(len(gap_at)), "missing": missing,
              "largest": float(steps[gap_at].max()) if len(gap_at) else 0.0,
              "latest": [[float(seconds[i]), float(seconds[i + 1])]
                         for i in gap_at[-MAX_GAPS:]]},
        trend=_trend(trend, rest, interval * factor), seasons=found,
        level=float(np.mean(vals)), spread=spread, noise=noise,
        noise_ratio=round(noise / spread, 3) if spread > 0 else 0.0,
        flat_points=flat, flat=bool(flat >= FLAT_POINTS or spread == 0),
        age=age, stale=bool(age > STALE_FACTOR * interval),
    )
    out["health"], out["reasons"] = verdict(out)
    return out


def verdict(a: dict[str, Any]) -> tuple[str, list[str]]:
    """ok, warning or bad, and why (an empty list when ok)."""
    bad, warn = [], []
    if a["spread"] == 0:
        bad.append("constant: every value is the same")
    elif a["flat"]:
        warn.append(f"flat line: the last {a['flat_points']} values are equal")
    if a["stale"]:
        warn.append(f"stale: no point for {a['age']:.0f} s ({a['age'] / a['interval']:.0f} "
                    "intervals)")
    if a["regularity"] < 0.8:
        warn.append(f"irregular sampling: {a['regularity']:.0%} of steps are the interval")
    expected = a["span"] / a["interval"] + 1
    if a["gaps"]["missing"] > 0.1 * expected:
        warn.append(f"gaps: about {a['gaps']['missing']} points missing "
                    f"({a['gaps']['count']} gaps)")
    if a["noise_ratio"] > 0.75 and not a["seasons"] and a["trend"]["direction"] == "flat":
        warn.append("mostly noise: no trend or season stands out")
    if a["points"] < 50:
        warn.append(f"short: {a['points']} points")
    health = "bad" if bad else "warning" if warn else "ok"
    return health, bad + warn
