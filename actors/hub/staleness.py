"""A series gone stale: no new points for much longer than its interval.

The hub holds counts, not values: a series' point count (the listener's reports and the
reconciliation's SiriDB counts) that has not grown for `stale_factor` analysed intervals
(at least `stale_min_seconds`, and two reconcile intervals, since without a listener counts
only move at reconciliations) makes its "stale" rule fire; the first growth resolves it.
The series are looked at in slices (SLICE every TICK seconds), so a hub watching 100,000
series never holds its loop for a whole round.
Its state is `rule_states.stale` on /series/{name}; alerts are kind rule, key
"rule:<series>:stale". Series without an analysis (not trained yet) are not watched.
"""

from __future__ import annotations

from collections import deque

from actors.hub.rules import notify
from actors.hub.series import Series
from actors.hub.state import HubState
from protocol.alerts import AlertKind, Severity

#: Seconds between two slices of the watch.
TICK = 0.2
#: Series looked at per slice: a full round of 100,000 series takes 10 s, and no slice holds
#: the hub's loop for more than a few milliseconds.
SLICE = 2000


class StaleWatch:
    """Watches the counts of analysed series; a loop timer (`tick`) of the hub."""

    def __init__(self, state: HubState, factor: float = 10.0, min_seconds: float = 60.0) -> None:
        self.state = state
        self.factor = factor
        self.min_seconds = min_seconds
        self._seen: dict[str, tuple[int, float]] = {}  # name -> (points, when they last grew)
        self._round: deque[str] = deque()  # the series still to look at in this round
        self._next = 0.0

    def tick(self, now: float) -> float:
        """Look at a slice of the series every TICK seconds (monotonic now); the next due time."""
        if now >= self._next:
            self.check(self.state.wall(), SLICE)
            self._next = now + TICK
        return self._next

    def floor(self) -> float:
        """The shortest wait for any series: stale_min_seconds, and two reconciliations."""
        return max(self.min_seconds, 2 * float(self.state.settings.get("reconcile_interval", 60)))

    def limit(self, series: Series) -> float:
        """Seconds without a new point after which the series is stale."""
        return max(self.factor * (series.interval or 0.0), self.floor())

    def check(self, wall: float, limit: int | None = None) -> None:
        """Fire or resolve the stale rule of the next `limit` analysed series of the round
        (all those left when None); a round over, the next starts with every series."""
        seen, registry = self._seen, self.state.series
        if not self._round:
            if len(seen) > len(registry):
                for name in [n for n in seen if n not in registry]:
                    del seen[name]
            self._round.extend(s.name for s in registry if s.interval is not None)
        floor, factor, take = self.floor(), self.factor, self._round.popleft
        for _ in range(len(self._round) if limit is None else min(limit, len(self._round))):
            series = registry.get(take())
            if series is None or series.interval is None:
                continue
            points = series.points
            last = seen.get(series.name)
            if last is None or points != last[0]:
                seen[series.name] = (points, wall)
                if last is not None:
                    self._set(series, False, 0.0, wall)
            elif wall - last[1] > max(factor * series.interval, floor):
                self._set(series, True, wall - last[1], wall)

    def _set(self, series: Series, stale: bool, quiet: float, wall: float) -> None:
        current = series.rule_states.get("stale")
        firing = current is not None and current.get("status") == "firing"
        if stale == firing:
            return
        series.rule_states["stale"] = {
            "id": "stale", "kind": "stale", "status": "firing" if stale else "ok",
            "value": round(quiet, 3) if stale else None, "changed_at": wall}
        summary = (f"{series.name} is stale: no new point for {quiet:.0f} s "
                   f"(interval {series.interval:g} s)" if stale
                   else f"{series.name} has new points again")
        notify(self.state, series, "stale", AlertKind.RULE, stale, Severity.WARNING, summary,
               {"quiet_seconds": round(quiet, 3), "interval": series.interval,
                "limit": self.limit(series)})
        self.state.series.touch(series.name)
        self.state.event("series_stale" if stale else "series_fresh", summary, series.name,
                         level="warning" if stale else "info")
