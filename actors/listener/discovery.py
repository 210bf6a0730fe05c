"""Series of the tee that match one of the hub's patterns, reported once to the hub.

The hub sends its patterns (UPDATE_PATTERNS); the PointCounter hands over the names of a
tee package that it does not count (unwatched); each such name is matched the first time
it is seen, as SiriDB matches (protocol/patterns.py), and a match is queued for the hub
(SERIES_SEEN). Names seen are remembered, matched or not, so a busy series costs one
set lookup per package; the memory holds at most `memory` names (the oldest are
forgotten first, and then matched again if they come back). New patterns clear it. A
report the hub never got is not sent again: the hub's periodic listing of SiriDB finds
such a series anyway.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterable

from protocol.patterns import compile_pattern

log = logging.getLogger(__name__)

#: Names remembered as seen by default (about 100 bytes each).
DEFAULT_MEMORY = 100_000
#: Most names waiting for the hub; beyond, new matches wait for the hub's listing.
MAX_FOUND = 100_000


class Discovery:
    """The hub's patterns, the names seen in the tee, and the matches to report."""

    def __init__(self, memory: int = DEFAULT_MEMORY) -> None:
        self.memory = max(1, memory)
        self.patterns: list[re.Pattern[bytes]] = []
        self.seen: set[bytes] = set()
        self._order: deque[bytes] = deque()  # the names of `seen`, oldest first
        self.found: dict[str, None] = {}
        self.matched = 0

    @property
    def active(self) -> bool:
        """Whether there are patterns to match."""
        return bool(self.patterns)

    def replace(self, texts: Iterable[str]) -> None:
        """Match with these patterns from now on (a pattern that does not compile is skipped)."""
        patterns = []
        for text in texts:
            try:
                patterns.append(compile_pattern(text))
            except ValueError as exc:
                log.warning("pattern %.200r skipped: %s", text, exc)
        self.patterns = patterns
        self.seen.clear()
        self._order.clear()
        log.info("matching the tee with %d pattern(s)", len(patterns))

    def on_names(self, names: set[bytes]) -> None:
        """Unwatched names of a tee package (as the tee carries them: a NUL at the end)."""
        seen = self.seen
        new = names.difference(seen)
        if not new or not self.patterns:
            return
        seen.update(new)
        self._order.extend(new)
        for raw in new:
            if type(raw) is not bytes:
                continue
            name = raw[:-1] if raw.endswith(b"\x00") else raw
            if any(p.search(name) for p in self.patterns) and len(self.found) < MAX_FOUND:
                try:
                    self.found[name.decode()] = None
                except UnicodeDecodeError:
                    continue
                self.matched += 1
        order = self._order
        while len(order) > self.memory:
            seen.discard(order.popleft())

    def take(self) -> list[str]:
        """The matches to report, cleared."""
        found, self.found = list(self.found), {}
        return found

