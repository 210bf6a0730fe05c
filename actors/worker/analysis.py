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
#: An autocorrelation peak at least this high is a season.
MIN_SEASON_STRENGTH = 0.3
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


def _acf(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    n = len(x)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[:n]
    return acf / acf[0] if acf[0] > 0 else np.zeros(n)


def seasons(detrended: np.ndarray, step: float) -> list[dict[str, Any]]:
    """Seasonal periods: autocorrelation peaks (the highest within 10 % of their lag),
    strongest first, multiples of a period already found left out; `strength` is the
    autocorrelation at the period. step: seconds per point of `detrended`."""
    n = len(detrended)
    if n < 8 or not np.ptp(detrended) > 0:
        return []
    acf = _acf(detrended)
    found: list[dict[str, Any]] = []
    peaks = []
    for lag in range(2, n // 2):
        width = max(1, lag // 10)
        if acf[lag] >= MIN_SEASON_STRENGTH and acf[lag] >= acf[lag - width:lag + width + 1].max():
            peaks.append(lag)
    for lag in sorted(peaks, key=lambda p: -acf[p]):
        if any(abs(lag / f["lag"] - round(lag / f["lag"])) < 0.05 for f in found):
            continue
        below, here, above = acf[lag - 1], acf[lag], acf[lag + 1]
        curve = below - 2 * here + above
        exact = lag + (0.5 * (below - above) / curve if curve < 0 else 0.0)
        found.append({"lag": lag, "exact": exact, "strength": round(float(here), 3)})
        if len(found) == MAX_PERIODS:
            break
    return [{"points": f["exact"], "period": f["exact"] * step, "strength": f["strength"]}
            for f in found]


def _components(grid: np.ndarray, periods: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The linear trend of grid and what is left once trend and seasons are taken out."""
    x = np.arange(len(grid))
    trend = np.polyval(np.polyfit(x, grid, 1), x)
    rest = grid - trend
    for period in periods:
        phases = x % period
        profile = np.bincount(phases, rest) / np.maximum(np.bincount(phases), 1)
        rest = rest - profile[phases]
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
    """The robust spread (MAD, scaled to a normal's sd) of what trend and season leave."""
    return float(1.4826 * np.median(np.abs(rest - np.median(rest))))


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
    trend, rest = _components(grid, [round(f["points"]) for f in found])
    for season in found:  # in intervals of the series, not of the grid
        season["points"] = round(float(season["points"]) * factor, 2)
        season["period"] = float(season["period"])
    noise = _noise(rest)
    flat = _flat_points(vals)
    age = max(0.0, now - float(seconds[-1]))
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
    if a["noise_ratio"] > 0.9 and not a["seasons"] and a["trend"]["direction"] == "flat":
        warn.append("mostly noise: no trend or season stands out")
    if a["points"] < 50:
        warn.append(f"short: {a['points']} points")
    health = "bad" if bad else "warning" if warn else "ok"
    return health, bad + warn
