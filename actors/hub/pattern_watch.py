"""Watch by pattern on the hub's loop: matches become watched series a slice per turn,
SiriDB is listed per pattern every `pattern_list_interval`, and series SiriDB lost are
let go after `pattern_grace`.

Matches come from listeners (SERIES_SEEN, checked again here by PatternBook.offer) and
from the listings (actors/hub/pattern_listing.py). Each is added through the add_series
action itself, with the pattern's template as its body: the same checks and defaults as
POST /series, whatever that body gains. A turn adds at most SLICE series or SLICE_SECONDS
of work, whichever comes first, and asks for the next turn at once while matches wait;
so 100,000 matches never hold the loop (peers, REST) for more than a few milliseconds.
"""

from __future__ import annotations

import itertools
import logging
import queue
import time

from actors.common.siridb_queries import list_limit_query
from actors.hub.actions import run_action
from actors.hub.pattern_listing import Sweep
from actors.hub.siridb_link import Result, SiriDBLink
from actors.hub.state import HubState
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

#: Most series added (or let go) per loop turn, and most seconds spent doing it.
SLICE = 500
SLICE_SECONDS = 0.005
#: Seconds before a listing that failed is tried again.
RETRY = 30.0
#: Rows asked for per listing query when SiriDB does not say its list_limit.
DEFAULT_LIST_LIMIT = 10_000


class PatternWatcher:
    """Turns the PatternBook's matches into watched series; lists SiriDB per pattern."""

    def __init__(self, state: HubState, link: SiriDBLink,
                 perf: type[time.perf_counter] = time.perf_counter) -> None:
        self.state = state
        self.book = state.patterns
        self.link = link
        self.perf = perf
        self.results: queue.Queue[Result] = queue.Queue()
        #: pattern id -> when its last listing started (monotonic): the next is due
        #: pattern_list_interval later, so a change of the setting applies at once.
        self.started: dict[int, float] = {}
        self.sweep: Sweep | None = None
        self.waiting: tuple[str, int] | None = None  # (tag, pattern id) of the query out
        self._tags = itertools.count()
        self.added = self.failed = self.released = 0
        self._next_release = 0.0  # when to look for series missing past the grace again

    # the loop's timer ------------------------------------------------------
    def tick(self, now: float) -> float:
        """Add a slice of matches, let go a slice of lost series, start due listings."""
        self._add_some()
        more = self._release_some(now)
        next_listing = self._start_listing(now)
        if self.book.pending or more:
            return now  # more to do: the next turn comes at once
        return min(next_listing, self._next_release if self.book.missing else now + 1.0)

    def _add_some(self) -> None:
        book, state = self.book, self.state
        started, done = self.perf(), 0
        while book.pending and done < SLICE and self.perf() - started < SLICE_SECONDS:
            name, pid = book.take()
            pattern = book.patterns.get(pid)
            if pattern is None or name in state.series or name in book.excluded:
                continue
            done += 1
            try:
                run_action(state, "add_series", {**pattern.template, "name": name})
            except ProtocolError as exc:
                self.failed += 1
                log.warning("pattern %d could not add %r: %s", pid, name[:200], exc.message,
                            extra={"rate_key": ("pattern_add", pid)})
                continue
            book.joined(name, pid)
            self.added += 1

    def _release_some(self, now: float) -> bool:
        """Let go a slice of the series missing past the grace; True when more are due."""
        if now < self._next_release or not self.book.missing:
            return False
        state = self.state
        overdue = self.book.overdue(state.wall(), state.settings["pattern_grace"])
        self._next_release = now + (0.0 if len(overdue) > SLICE else 1.0)
        for name in overdue[:SLICE]:
            pid = self.book.members.get(name)
            self.book.release(name)
            if name in state.series:
                state.remove_series(name)
            self.released += 1
            state.event("pattern_released",
                        f"series {name!r} let go by pattern {pid}: missing from SiriDB for "
                        f"{state.settings['pattern_grace']:g} s", name)
        return len(overdue) > SLICE

    # listings --------------------------------------------------------------
    def _start_listing(self, now: float) -> float:
        if not self.link.configured:
            return now + 3600.0
        interval = self.state.settings["pattern_list_interval"]
        book = self.book
        for pid in book.sweep_now:
            self.started.pop(pid, None)  # new: listed at once
        book.sweep_now.clear()
        for pid in [p for p in self.started if p not in book.patterns]:
            del self.started[pid]
        if not book.patterns:
            return now + interval
        due = {pid: self.started.get(pid, float("-inf")) + interval for pid in book.patterns}
        pid, when = min(due.items(), key=lambda item: item[1])
        if self.waiting is not None:
            return now + 1.0
        if when > now:
            return when
        self.started[pid] = now
        self._submit(pid, list_limit_query())
        return now + 1.0

    def _submit(self, pid: int, query: str) -> None:
        tag = f"pattern-{next(self._tags)}"
        self.waiting = (tag, pid)
        self.link.submit(tag, query, self.results, kind="list")

    def drain(self) -> None:
        """Take the listing replies that arrived from the SiriDB thread."""
        while not self.results.empty():
            tag, data, error = self.results.get_nowait()
            if self.waiting is None or self.waiting[0] != tag:
                continue
            _, pid = self.waiting
            self.waiting = None
            pattern = self.book.patterns.get(pid)
            if pattern is None:  # deleted meanwhile
                self.sweep = None
                continue
            try:
                if error is not None:
                    raise ValueError(error)
                self._on_reply(pid, pattern.text, data)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                self.sweep = None
                # Tried again RETRY seconds from now (or at the interval, if shorter).
                interval = self.state.settings["pattern_list_interval"]
                self.started[pid] = self.state.clock() - interval + RETRY
                log.warning("listing SiriDB for pattern %d failed: %s", pid, exc,
                            extra={"rate_key": ("pattern_listing", pid)})

    def _on_reply(self, pid: int, text: str, data: object) -> None:
        if self.sweep is None or self.sweep.pattern_id != pid:
            # The reply to `show list_limit`: the listing proper starts.
            value = data["data"][0]["value"] if isinstance(data, dict) else None
            limit = value if isinstance(value, int) and value > 0 else DEFAULT_LIST_LIMIT
            self.sweep = Sweep(pid, text, limit)
        else:
            names = self.sweep.on_reply(data)
            self.book.offer(names, self.state.series, listed_by=pid)
        query = self.sweep.next_query()
        if query is not None:
            self._submit(pid, query)
            return
        sweep, self.sweep = self.sweep, None
        self.book.seen_in_siridb(pid, sweep.found, self.state.wall())
        log.info("pattern %d: SiriDB has %d matching series (%d queries)", pid,
                 len(sweep.found), sweep.queries)
