"""Point counts per watched series, kept until they have been handed to the hub."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from actors.listener.discovery import Discovery
from actors.listener.tee import count_points, raw_name


class PointCounter:
    """Sum points per watched series; realtime series are flagged for sending at once.

    Pure bookkeeping, no I/O and no locking: use it from one thread (the listener's loop).
    Counts of a series stop being kept (and pending ones are dropped) when it is unwatched.
    add_raw() takes count_points() / count_watched() output directly, so that names are
    decoded only for watched series.
    """

    def __init__(self, discovery: Discovery | None = None) -> None:
        self._watched: set[str] = set()
        # Tee name bytes -> name, with and without SiriDB's trailing NUL.
        self._raw: dict[bytes, str] = {}
        self._realtime: set[str] = set()
        self._pending: dict[str, int] = {}
        self._realtime_pending: set[str] = set()
        #: Given the names of each package that are not watched, while it has patterns
        #: (actors/listener/discovery.py); otherwise nothing more is computed.
        self.discovery = discovery

    # -- the watch list (from the hub: UPDATE_SERIES, ADD_SERIE, REMOVE_SERIE) --

    def replace(self, names: Iterable[str], realtime: Iterable[str] = ()) -> None:
        """Watch exactly `names` (and those in `realtime`, flagged realtime)."""
        realtime = set(realtime)
        watched = set(names) | realtime
        self._watched = watched
        self._raw = {}
        for name in watched:
            self._add_raw_name(name)
        self._realtime = realtime
        self._pending = pending = {n: c for n, c in self._pending.items() if n in watched}
        self._realtime_pending = {n for n in realtime if n in pending}

    def watch(self, name: str, realtime: bool = False) -> None:
        """Watch one series, or change its realtime flag; its pending count is kept."""
        if name not in self._watched:
            self._watched.add(name)
            self._add_raw_name(name)
        if realtime:
            self._realtime.add(name)
            if name in self._pending:
                self._realtime_pending.add(name)
        else:
            self._realtime.discard(name)
            self._realtime_pending.discard(name)

    def unwatch(self, name: str) -> None:
        """Stop watching one series and drop its pending count."""
        if name in self._watched:
            self._watched.discard(name)
            raw = raw_name(name)
            self._raw.pop(raw, None)
            self._raw.pop(raw[:-1], None)
        self._realtime.discard(name)
        self._pending.pop(name, None)
        self._realtime_pending.discard(name)

    def _add_raw_name(self, name: str) -> None:
        raw = raw_name(name)
        self._raw[raw] = name
        self._raw[raw[:-1]] = name

    def is_watched(self, name: str) -> bool:
        """Whether points of `name` are counted."""
        return name in self._watched

    def watched(self) -> frozenset[str]:
        """A snapshot of the watched names."""
        return frozenset(self._watched)

    # -- counting --

    def add(self, counts: Mapping[str, int]) -> int:
        """Add the counts of watched series (others are ignored); return the points kept."""
        hits = counts.keys() & self._watched  # iterates the smaller side
        if not hits:
            return 0
        pending = self._pending
        realtime = self._realtime
        kept = 0
        for name in hits:
            n = counts[name]
            if n > 0:
                pending[name] = pending.get(name, 0) + n
                kept += n
                if name in realtime:
                    self._realtime_pending.add(name)
        return kept

    def count_watched(self, body: bytes) -> dict[bytes, int]:
        """count_points() of a tee package body for the watched series only (the fast path).

        Raises TeeProtocolError on a malformed body. Counts nothing: pass the result to
        add_raw(), e.g. TeeServer(counter.add_raw, decode=counter.count_watched).
        """
        discovery = self.discovery
        others = discovery.on_names if discovery is not None and discovery.active else None
        return count_points(body, self._raw, others)

    def add_raw(self, counts: Mapping[bytes, int]) -> int:
        """Like add(), keyed by the names as the tee carries them (count_points() output)."""
        if not counts:
            return 0
        raw = self._raw
        # count_watched() output is a few watched names: look them up one by one; a whole
        # package's names are better left to a set intersection in C.
        keys: Iterable[bytes] = counts if len(counts) <= 8 else counts.keys() & raw.keys()
        pending = self._pending
        realtime = self._realtime
        kept = 0
        for key in keys:
            name = raw.get(key)
            n = counts[key]
            if name is not None and n > 0:
                pending[name] = pending.get(name, 0) + n
                kept += n
                if name in realtime:
                    self._realtime_pending.add(name)
        return kept

    def restore(self, counts: Mapping[str, int]) -> None:
        """Merge back counts that were taken but not delivered (still watched series only)."""
        self.add(counts)

    # -- handing counts over --

    def take(self) -> dict[str, int]:
        """Return and clear every pending count."""
        pending, self._pending = self._pending, {}
        self._realtime_pending.clear()
        return pending

    def has_realtime_pending(self) -> bool:
        """Whether a realtime series has points waiting to be sent at once."""
        return bool(self._realtime_pending)

    def take_realtime(self) -> dict[str, int]:
        """Return and clear the pending counts of realtime series only."""
        pending = self._pending
        taken = {name: pending.pop(name) for name in self._realtime_pending}
        self._realtime_pending.clear()
        return taken

    @property
    def pending_points(self) -> int:
        """Total points waiting to be sent."""
        return sum(self._pending.values())

    def __len__(self) -> int:
        """Number of series with a pending count."""
        return len(self._pending)
