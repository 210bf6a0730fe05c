"""In-memory databases and series; an optional journal (see persist.py) keeps them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

from .coerce import coerce_all, type_of
from .insert import SeriesPoints

PRECISIONS = ('s', 'ms', 'us', 'ns')
DEFAULT_SELECT_POINTS_LIMIT = 1_000_000
DEFAULT_LIST_LIMIT = 10_000
DEFAULT_DROP_THRESHOLD = 1.0
DEFAULT_TIMEZONE = 'NAIVE'
DEFAULT_USER = b'iris'
DEFAULT_PASSWORD = b'siri'


class Journal(Protocol):
    """What a persistent store must record; every call is one committed change."""

    def database_saved(self, db: Database) -> None:
        """Create the database row or update its settings."""

    def database_dropped(self, name: str) -> None:
        """Forget a database with its series."""

    def points_added(self, db: Database, added: list[tuple[Series, bool, list[Any]]]) -> None:
        """Record (series, created, [(ts, value, batch)...]) of one insert."""

    def series_dropped(self, db: Database, names: list[bytes]) -> None:
        """Forget the named series."""


class Series:
    """One series: its type is fixed by its first point; points sorted by time.

    Points with equal timestamps keep their insertion order.  Each point remembers the
    insert request (batch) that wrote it, for the first()/last() string quirk.
    """

    __slots__ = ('name', 'tp', 'ts', 'values', 'batches')

    def __init__(self, name: bytes, tp: str) -> None:
        self.name = name
        self.tp = tp
        self.ts: list[int] = []
        self.values: list[Any] = []
        self.batches: list[int] = []

    def __len__(self) -> int:
        return len(self.ts)

    def add(self, ts: list[int], values: list[Any], batch: int) -> None:
        """Add already coerced points; keeps the time order, duplicates stay."""
        in_order = all(a <= b for a, b in zip(ts, itertools.islice(ts, 1, None), strict=False))
        if in_order and (not self.ts or not ts or ts[0] >= self.ts[-1]):
            self.ts.extend(ts)
            self.values.extend(values)
            self.batches.extend([batch] * len(ts))
            return
        merged = list(zip(self.ts, self.values, self.batches, strict=True))
        merged.extend(zip(ts, values, [batch] * len(ts), strict=True))
        # sort() is stable: older points stay before newer ones with the same ts.
        merged.sort(key=lambda p: p[0])
        self.ts = [p[0] for p in merged]
        self.values = [p[1] for p in merged]
        self.batches = [p[2] for p in merged]


@dataclass
class Database:
    """One SiriDB database: settings, users and series in creation order."""

    name: str
    time_precision: str = 'ms'
    select_points_limit: int = DEFAULT_SELECT_POINTS_LIMIT
    list_limit: int = DEFAULT_LIST_LIMIT
    drop_threshold: float = DEFAULT_DROP_THRESHOLD
    timezone: str = DEFAULT_TIMEZONE
    tee: str | None = None
    users: dict[bytes, bytes] = field(default_factory=lambda: {DEFAULT_USER: DEFAULT_PASSWORD})
    series: dict[bytes, Series] = field(default_factory=dict)
    last_batch: int = 0
    journal: Journal | None = None

    def settings(self) -> dict[str, Any]:
        """The settings a journal stores (everything but the series)."""
        return {
            'select_points_limit': self.select_points_limit,
            'list_limit': self.list_limit,
            'drop_threshold': self.drop_threshold,
            'timezone': self.timezone,
            'tee': self.tee,
            'users': {k.hex(): v.hex() for k, v in self.users.items()},
        }

    def apply_settings(self, settings: dict[str, Any]) -> None:
        """Restore settings written by `settings()`."""
        self.select_points_limit = settings['select_points_limit']
        self.list_limit = settings['list_limit']
        self.drop_threshold = settings['drop_threshold']
        self.timezone = settings['timezone']
        self.tee = settings['tee']
        self.users = {bytes.fromhex(k): bytes.fromhex(v) for k, v in settings['users'].items()}

    def save_settings(self) -> None:
        """Persist the settings after a change."""
        if self.journal is not None:
            self.journal.database_saved(self)

    def insert(self, request: list[SeriesPoints]) -> None:
        """Store a validated insert: new series get the type of their first point."""
        self.last_batch += 1
        batch = self.last_batch
        added = []
        for item in request:
            series = self.series.get(item.name)
            created = series is None
            if series is None:
                series = Series(item.name, type_of(item.points[0][1]))
                self.series[item.name] = series
            ts = [p[0] for p in item.points]
            values = coerce_all(series.tp, [p[1] for p in item.points])
            series.add(ts, values, batch)
            added.append((series, created, list(zip(ts, values, itertools.repeat(batch)))))
        if self.journal is not None and added:
            self.journal.points_added(self, added)

    def drop_series(self, names: list[bytes]) -> int:
        """Remove series by name; returns how many existed."""
        dropped = [n for n in names if self.series.pop(n, None) is not None]
        if self.journal is not None and dropped:
            self.journal.series_dropped(self, dropped)
        return len(dropped)


class Store:
    """All databases of the server, by name."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal = journal
        self.databases: dict[str, Database] = {}

    def create_database(self, name: str, time_precision: str = 'ms') -> Database:
        """Create and persist an empty database."""
        db = Database(name, time_precision, journal=self.journal)
        self.databases[name] = db
        db.save_settings()
        return db

    def drop_database(self, name: str) -> None:
        """Remove a database and all its series."""
        self.databases.pop(name, None)
        if self.journal is not None:
            self.journal.database_dropped(name)
