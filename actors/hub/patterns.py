"""Patterns the hub watches by: records, the series each one added, and its exclusions.

Kept in memory and written through to the store (tables patterns, pattern_series,
pattern_exclusions). What to do with them (add matches a slice at a time, list SiriDB,
let dropped series go) is actors/hub/pattern_watch.py's; HubState holds the book so that
adding and removing a series by hand can say so here.

- A series a pattern added is its *member* until it is removed: by hand (it becomes an
  *exclusion* of that pattern, which does not add it again), or by the pattern itself
  after SiriDB's listing lacked it for `pattern_grace` seconds (no exclusion: it comes
  back if SiriDB gets it again).
- An exclusion ends when the series is added by hand (it is the operator's from then on)
  or when its pattern is deleted.
- A name matching several patterns belongs to the oldest one.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ujson

from actors.hub.store import Store
from protocol.patterns import compile_pattern


@dataclass(slots=True)
class Pattern:
    """One pattern: its regex, its template, and what its last complete listing found."""

    id: int
    text: str
    template: dict[str, Any]
    created_at: float
    regex: re.Pattern[bytes]
    listed_at: float | None = None
    listed: int | None = None


class PatternBook:
    """The patterns, their members and exclusions, and the matches waiting to be watched."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.patterns: dict[int, Pattern] = {}
        self.members: dict[str, int] = {}          # name -> id of the pattern that added it
        self.missing: dict[str, float] = {}        # member -> wall time SiriDB lost it
        self.excluded: dict[str, tuple[int, float]] = {}  # name -> (pattern id, since)
        #: Matches waiting to be watched: name -> pattern id, and the names in the order
        #: found (a deque: taking from the front of a dict slows as it empties).
        self.pending: dict[str, int] = {}
        self._order: deque[str] = deque()
        #: Ids of the patterns whose listing of SiriDB should start now (new ones).
        self.sweep_now: set[int] = set()
        #: Per pattern: its series, missing, excluded and pending, kept as they change (a
        #: pattern's info costs nothing with 100,000 series).
        self.counts: dict[int, dict[str, int]] = {}
        db = store.db
        for pid, text, template, created in db.execute(
                "SELECT id, pattern, template, created_at FROM patterns ORDER BY id"):
            self.patterns[pid] = Pattern(pid, text, ujson.loads(template), created,
                                         compile_pattern(text))
            self.counts[pid] = _zero()
        for name, pid, since in db.execute(
                "SELECT name, pattern_id, missing_since FROM pattern_series ORDER BY rowid"):
            self.members[name] = pid
            self._count(pid, "series", 1)
            if since is not None:
                self.missing[name] = since
                self._count(pid, "missing", 1)
        for name, pid, since in db.execute(
                "SELECT name, pattern_id, since FROM pattern_exclusions"):
            self.excluded[name] = (pid, since)
            self._count(pid, "excluded", 1)

    def _count(self, pid: int, key: str, delta: int) -> None:
        counts = self.counts.get(pid)
        if counts is not None:
            counts[key] += delta

    def __len__(self) -> int:
        return len(self.patterns)

    def texts(self) -> list[str]:
        """The patterns' regexes, oldest first (what listeners match the tee with)."""
        return [p.text for p in self.patterns.values()]

    # patterns -------------------------------------------------------------
    def create(self, text: str, template: dict[str, Any], now: float) -> Pattern:
        """Store a new pattern (text already checked) and ask for its first listing."""
        cursor = self.store.write(
            "INSERT INTO patterns (pattern, template, created_at) VALUES (?, ?, ?)",
            (text, ujson.dumps(template, ensure_ascii=False), now))
        pattern = Pattern(int(cursor.lastrowid), text, template, now, compile_pattern(text))
        self.patterns[pattern.id] = pattern
        self.counts[pattern.id] = _zero()
        self.sweep_now.add(pattern.id)
        return pattern

    def delete(self, pid: int) -> Pattern | None:
        """Forget a pattern, its exclusions and pending matches; its members stay watched."""
        pattern = self.patterns.pop(pid, None)
        if pattern is None:
            return None
        for table in ("patterns", "pattern_series", "pattern_exclusions"):
            column = "id" if table == "patterns" else "pattern_id"
            self.store.write(f"DELETE FROM {table} WHERE {column} = ?", (pid,))
        for mapping in (self.members, self.pending):
            for name in [n for n, owner in mapping.items() if owner == pid]:
                del mapping[name]
                self.missing.pop(name, None)
        for name in [n for n, (owner, _) in self.excluded.items() if owner == pid]:
            del self.excluded[name]
        self.sweep_now.discard(pid)
        del self.counts[pid]
        return pattern

    def owner(self, name: str) -> int | None:
        """The oldest pattern matching name (None: none does)."""
        raw = name.encode()
        for pattern in self.patterns.values():
            if pattern.regex.search(raw) is not None:
                return pattern.id
        return None

    # candidates -----------------------------------------------------------
    def offer(self, names: Iterable[str], watched: Any, listed_by: int | None = None) -> int:
        """Queue the names that match a pattern and are neither watched nor excluded.

        listed_by: the pattern SiriDB selected the names with; only older patterns (which
        own a name they match) are tried then.
        """
        queued = 0
        pending, excluded = self.pending, self.excluded
        older = None if listed_by is None else [
            p for p in self.patterns.values() if p.id < listed_by]
        for name in names:
            if name in pending or name in watched or name in excluded:
                continue
            if older is None:
                pid = self.owner(name)
            else:
                raw = name.encode() if older else b""
                pid = next((p.id for p in older if p.regex.search(raw)), listed_by)
            if pid is not None:
                pending[name] = pid
                self._order.append(name)
                self._count(pid, "pending", 1)
                queued += 1
        return queued

    def take(self) -> tuple[str, int]:
        """The match found first that still waits, and its pattern (pending must not be empty)."""
        while True:
            name = self._order.popleft()
            pid = self.pending.pop(name, None)
            if pid is not None:
                self._count(pid, "pending", -1)
                return name, pid

    # members --------------------------------------------------------------
    def joined(self, name: str, pid: int) -> None:
        """A pattern's match is watched now."""
        if self.members.get(name) != pid:
            self.release(name)
            self.members[name] = pid
            self._count(pid, "series", 1)
        self.store.write("INSERT OR REPLACE INTO pattern_series (name, pattern_id, "
                         "missing_since) VALUES (?, ?, NULL)", (name, pid))

    def seen_in_siridb(self, pid: int, names: set[str], now: float) -> None:
        """A complete listing of pattern pid: its members absent from it are missing now."""
        changed: list[tuple[float | None, str]] = []
        for name, owner in self.members.items():
            if owner != pid:
                continue
            if name in names:
                if self.missing.pop(name, None) is not None:
                    changed.append((None, name))
                    self._count(pid, "missing", -1)
            elif name not in self.missing:
                self.missing[name] = now
                changed.append((now, name))
                self._count(pid, "missing", 1)
        if changed:
            self.store.write("UPDATE pattern_series SET missing_since = ? WHERE name = ?",
                             changed, many=True)
        pattern = self.patterns[pid]
        pattern.listed_at, pattern.listed = now, len(names)

    def overdue(self, now: float, grace: float) -> list[str]:
        """Members missing from SiriDB for longer than grace seconds."""
        return [name for name, since in self.missing.items() if now - since >= grace]

    def release(self, name: str) -> None:
        """Its pattern lets a member go (SiriDB dropped it): no exclusion."""
        pid = self.members.pop(name, None)
        if pid is not None:
            self._count(pid, "series", -1)
            if self.missing.pop(name, None) is not None:
                self._count(pid, "missing", -1)
            self.store.write("DELETE FROM pattern_series WHERE name = ?", (name,))

    def on_removed(self, name: str, now: float) -> None:
        """A series was removed: if by hand from a pattern's members, exclude it there."""
        pid = self.members.get(name)
        if pid is None:
            return
        self.release(name)
        self.excluded[name] = (pid, now)
        self._count(pid, "excluded", 1)
        self.store.write("INSERT OR REPLACE INTO pattern_exclusions (name, pattern_id, since) "
                         "VALUES (?, ?, ?)", (name, pid, now))

    def on_added(self, name: str) -> None:
        """A series was added (by hand, or by its pattern): any exclusion of it ends."""
        excluded = self.excluded.pop(name, None)
        if excluded is not None:
            self._count(excluded[0], "excluded", -1)
            self.store.write("DELETE FROM pattern_exclusions WHERE name = ?", (name,))
        pid = self.pending.pop(name, None)
        if pid is not None:
            self._count(pid, "pending", -1)

    # views ----------------------------------------------------------------
    def info(self, pattern: Pattern) -> dict[str, Any]:
        """The pattern as GET /patterns shows it."""
        return {
            "id": pattern.id, "pattern": pattern.text, "template": pattern.template,
            "created_at": pattern.created_at, **self.counts[pattern.id],
            "listed_at": pattern.listed_at, "listed": pattern.listed,
        }

    def series_of(self, pid: int) -> list[dict[str, Any]]:
        """A pattern's members and exclusions, sorted by name."""
        rows = [{"name": n, "state": "missing" if n in self.missing else "watched",
                 "since": self.missing.get(n)}
                for n, owner in self.members.items() if owner == pid]
        rows += [{"name": n, "state": "excluded", "since": since}
                 for n, (owner, since) in self.excluded.items() if owner == pid]
        return sorted(rows, key=lambda row: row["name"])


def _zero() -> dict[str, int]:
    return {"series": 0, "missing": 0, "excluded": 0, "pending": 0}
