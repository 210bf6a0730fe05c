"""Point counts from the tee are hints: reconcile them with `select count()` from SiriDB."""

from __future__ import annotations

import itertools
import logging
from collections import deque
from typing import TYPE_CHECKING

from actors.hub.results import apply_count
from actors.hub.series import Series
from actors.hub.siridb_link import SiriDB

if TYPE_CHECKING:  # the state owns the reconciler
    from actors.hub.state import HubState

log = logging.getLogger(__name__)

#: "Last counted" of a series never counted. Not 0.0: the clock is time.monotonic(), which
#: starts near 0 at boot, so 0.0 + reconcile_interval can lie in the future.
NEVER = float("-inf")
#: Seconds between looks for a series SiriDB does not have (yet): soon enough to say when
#: it appears, few enough queries for a name that never will.
MISSING_RECHECK = 5.0


def quote(name: str) -> str:
    """Quote a series name for a SiriDB query (a quote inside is doubled)."""
    return "'" + name.replace("'", "''") + "'"


class Reconciler:
    """Asks SiriDB for the count of every series once per reconcile_interval, a few at a time."""

    def __init__(self, state: HubState, link: SiriDB, max_in_flight: int = 8) -> None:
        self.state = state
        self.link = link
        self.max_in_flight = max_in_flight
        # (when last counted, name); NEVER is due at once whatever the clock reads.
        self.queue: deque[tuple[float, str]] = deque((NEVER, s.name) for s in state.series)
        self.in_flight: dict[str, tuple[str, int]] = {}
        self._tags = itertools.count()
        self.errors = 0
        self.now = NEVER
        # (when due, name) of series SiriDB lacked at their last count, in due order.
        self.missing: deque[tuple[float, str]] = deque()

    def urgent(self, name: str) -> None:
        """Count this series at the next turn (e.g. just added: it may have history)."""
        self.queue.appendleft((NEVER, name))

    def tick(self, now: float) -> float:
        """Submit due count queries; return when the next one is due."""
        if not self.link.configured:
            return now + 3600.0
        interval = self.state.settings["reconcile_interval"]
        self.now = now
        while self.missing and self.missing[0][0] <= now and len(self.in_flight) < \
                self.max_in_flight:
            _, name = self.missing.popleft()
            series = self.state.series.get(name)
            if series is not None and series.in_siridb is False:
                self._submit(name, series.points_counted)
        while self.queue and len(self.in_flight) < self.max_in_flight:
            last, name = self.queue[0]
            if last + interval > now:
                return last + interval
            self.queue.popleft()
            series = self.state.series.get(name)
            if series is None:
                continue
            self._submit(name, series.points_counted)
            self.queue.append((now, name))
        return now + 1.0

    def _submit(self, name: str, counted: int) -> None:
        tag = str(next(self._tags))
        self.in_flight[tag] = (name, counted)
        self.link.submit(tag, f"select count() from {quote(name)}")

    def drain(self) -> None:
        """Apply every count that arrived from the SiriDB thread."""
        while not self.link.results.empty():
            tag, data, error = self.link.results.get_nowait()
            name, counted_then = self.in_flight.pop(tag, (None, 0))
            series = self.state.series.get(name) if name else None
            if series is None:
                continue
            if error is not None:
                self.errors += 1
                log.warning("count of %r failed: %s", name, error)
                continue
            # SiriDB answers a count of a series it lacks with no entry for the name.
            present = name in (data or {})
            self._note_presence(series, present)
            points = (data or {}).get(name) or []
            count = points[0][1] if points else 0
            apply_count(self.state, series, int(count), counted_then)
            self.state.scheduler.consider(series)  # what SiriDB has beyond the tee counts

    def _note_presence(self, series: Series, present: bool) -> None:
        """Say (event log, subscribers) when SiriDB lacks a watched series, and when it appears."""
        name = series.name
        if present and series.in_siridb is False:
            series.appeared_at = self.state.wall()
            self.state.event("series_appeared", f"series {name!r} now exists in SiriDB",
                             series=name)
            self.state.publish(name, "siridb", {"in_siridb": True})
        elif not present:
            if series.in_siridb is not False:
                self.state.event(
                    "series_missing", f"SiriDB has no series {name!r} yet; Enodo waits for it",
                    series=name, level="warning")
                self.state.publish(name, "siridb", {"in_siridb": False})
            self.missing.append((self.now + MISSING_RECHECK, name))
        series.in_siridb = present
