"""Pages of the watched series: sorted by name, filtered by name pattern, job state, model.

The registry keeps its names sorted (`NameIndex`, updated by bisection on add and remove),
so a page without filters costs O(log n + page) however many series are watched, and a
pattern with a literal prefix ("web01.*") only looks at the names with that prefix. A
filter on state or model, or a pattern that starts with a wildcard, looks at the names in
range one by one (about 1 us each): at most SCAN_BUDGET of them per request, so a request
for a rare state among 100,000 series may answer a short (or empty) page whose `next`
says where to go on, and no total (not counted); within the budget the total is exact.

Patterns are globs (fnmatch: `*`, `?`, `[abc]`, `[!abc]`), matched against the whole name,
case-sensitively; not regular expressions, which a request could make backtrack for
minutes on the hub's single loop. The cursor (`after`) is the last name of the previous
page: a series added or removed meanwhile moves no other series to another page.
"""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actors.hub.series import Series

WILDCARDS = re.compile(r"[*?\[]")
#: Most names one filtered request looks at (about 10 ms of the hub's loop).
SCAN_BUDGET = 10_000


class NameIndex:
    """Series names in code point order."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names: list[str] = sorted(names)

    def add(self, name: str) -> None:
        """Insert a name (not already there)."""
        insort(self.names, name)

    def remove(self, name: str) -> None:
        """Remove a name if present."""
        at = bisect_left(self.names, name)
        if at < len(self.names) and self.names[at] == name:
            del self.names[at]

    def span(self, prefix: str) -> tuple[int, int]:
        """The index range of the names that start with prefix."""
        names = self.names
        lo = bisect_left(names, prefix)
        if not prefix:
            return lo, len(names)
        return lo, bisect_left(names, True, lo, key=lambda n: not n.startswith(prefix))


@dataclass(frozen=True)
class SeriesFilter:
    """Which series a page holds; an unset field matches every series."""

    pattern: str | None = None
    state: str | None = None
    job: str | None = None    # with state: that job kind's state; without: any kind's
    model: str | None = None

    def prefix(self) -> str:
        """The pattern's literal start (every match begins with it)."""
        if self.pattern is None:
            return ""
        found = WILDCARDS.search(self.pattern)
        return self.pattern if found is None else self.pattern[: found.start()]

    def test(self, get: Callable[[str], Series | None]) -> Callable[[str], bool] | None:
        """A predicate on names beyond the prefix (None: the prefix says everything)."""
        match = None
        if self.pattern is not None and self.pattern != self.prefix():
            match = re.compile(fnmatch.translate(self.pattern)).match
        model, state, job = self.model, self.state, self.job
        if match is None and model is None and state is None:
            return None
        kinds = (job,) if job is not None else None

        def keep(name: str) -> bool:
            if match is not None and match(name) is None:
                return False
            if model is None and state is None:
                return True
            series = get(name)
            if series is None or (model is not None and series.model != model):
                return False
            if state is None:
                return True
            jobs = series.jobs
            for kind in kinds or jobs:
                if jobs[kind]["state"] == state:
                    return True
            return False

        return keep


def page(index: NameIndex, get: Callable[[str], Series | None], where: SeriesFilter,
         after: str | None, limit: int) -> dict[str, Any]:
    """The names of one page: {"names", "total", "next"} (next: the cursor, or None).

    A filtered request looks at SCAN_BUDGET names at most: past that, the page may hold
    fewer than `limit` names (even none), `next` is the last name looked at and `total` is
    None (not counted), so that no request holds the loop for long however many series.
    """
    lo, hi = index.span(where.prefix())
    names = index.names
    if where.pattern is not None and WILDCARDS.search(where.pattern) is None:
        # No wildcard: one name at most.
        lo = bisect_left(names, where.pattern, lo, hi)
        hi = lo + 1 if lo < hi and names[lo] == where.pattern else lo
    start = lo if after is None else bisect_right(names, after, lo, hi)
    keep = where.test(get)
    if keep is None:
        stop = min(start + limit, hi)
        chosen = names[start:stop]
        return {"names": chosen, "total": hi - lo, "next": chosen[-1] if stop < hi else None}
    if hi - lo <= SCAN_BUDGET:  # all of the range: the total too
        matched = [n for n in names[lo:hi] if keep(n)]
        first = bisect_right(matched, after) if after is not None else 0
        chosen = matched[first:first + limit]
        more = first + limit < len(matched)
        return {"names": chosen, "total": len(matched), "next": chosen[-1] if more else None}
    window = names[start:min(start + SCAN_BUDGET, hi)]
    matched = [n for n in window if keep(n)]
    if len(matched) > limit:
        chosen = matched[:limit]
        return {"names": chosen, "total": None, "next": chosen[-1]}
    more = start + len(window) < hi
    return {"names": matched, "total": None, "next": window[-1] if more and window else None}


def offset_page(index: NameIndex, keep: Callable[[str], bool] | None, offset: int, limit: int,
                desc: bool) -> tuple[list[str], int]:
    """The console's page: names from offset (in either order) that keep() holds; total."""
    if keep is None:
        names = index.names
        total = len(names)
        if desc:
            top = max(0, total - offset)
            return names[max(0, top - limit):top][::-1], total
        return names[offset:offset + limit], total
    matched = [n for n in index.names if keep(n)]
    if desc:
        matched.reverse()
    return matched[offset:offset + limit], len(matched)
