"""SQLite persistence: a restart with the same file keeps databases, series and points."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from typing import Any

from .storage import Database, Series, Store

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS databases (
    name TEXT PRIMARY KEY, time_precision TEXT NOT NULL, settings TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY AUTOINCREMENT, db TEXT NOT NULL, name BLOB NOT NULL,
    type TEXT NOT NULL, UNIQUE (db, name));
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value, batch INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS points_by_series ON points (series_id);
"""


def _make_private(path: str) -> None:
    """Create the file 0600 before SQLite opens it, and chmod it and its side files.

    The points are the user's data: no other local user may read them. SQLite gives the
    -wal and -shm files it creates the mode of the database; the chmod fixes files left
    0644 by an earlier version.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ('', '-wal', '-shm', '-journal'):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path + suffix, 0o600)


class SqliteJournal:
    """Writes every change through to an SQLite file (one transaction per change)."""

    def __init__(self, path: str) -> None:
        _make_private(path)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute('PRAGMA journal_mode=WAL')
        self.conn.execute('PRAGMA synchronous=NORMAL')
        self.conn.executescript(_SCHEMA)
        self._ids: dict[tuple[str, bytes], int] = {}

    def close(self) -> None:
        """Close the SQLite connection."""
        self.conn.close()

    def load(self, store: Store) -> None:
        """Fill `store` with everything the file holds."""
        for name, precision, settings in self.conn.execute(
                'SELECT name, time_precision, settings FROM databases ORDER BY rowid'):
            db = Database(name, precision, journal=self)
            db.apply_settings(json.loads(settings))
            store.databases[name] = db
        by_id: dict[int, Series] = {}
        for sid, dbname, name, tp in self.conn.execute(
                'SELECT id, db, name, type FROM series ORDER BY id'):
            db = store.databases.get(dbname)
            if db is None:
                continue
            series = Series(bytes(name), tp)
            db.series[series.name] = series
            by_id[sid] = series
            self._ids[(dbname, series.name)] = sid
        last_batch = 0
        for sid, ts, value, batch in self.conn.execute(
                'SELECT series_id, ts, value, batch FROM points ORDER BY series_id, ts, rowid'):
            series = by_id.get(sid)
            if series is None:
                continue
            series.ts.append(ts)
            series.values.append(bytes(value) if series.tp == 'string' else value)
            series.batches.append(batch)
            last_batch = max(last_batch, batch)
        for db in store.databases.values():
            db.last_batch = last_batch
        log.info('loaded %d database(s), %d series', len(store.databases), len(by_id))

    def database_saved(self, db: Database) -> None:
        """Create the database row or update its settings."""
        self.conn.execute(
            'INSERT INTO databases (name, time_precision, settings) VALUES (?, ?, ?) '
            'ON CONFLICT (name) DO UPDATE SET settings = excluded.settings',
            (db.name, db.time_precision, json.dumps(db.settings())))

    def database_dropped(self, name: str) -> None:
        """Forget a database with its series and points."""
        with self.conn:
            self.conn.execute('BEGIN')
            self.conn.execute(
                'DELETE FROM points WHERE series_id IN (SELECT id FROM series WHERE db = ?)',
                (name,))
            self.conn.execute('DELETE FROM series WHERE db = ?', (name,))
            self.conn.execute('DELETE FROM databases WHERE name = ?', (name,))
        self._ids = {k: v for k, v in self._ids.items() if k[0] != name}

    def points_added(self, db: Database, added: list[tuple[Series, bool, list[Any]]]) -> None:
        """Record the series created and the points written by one insert."""
        with self.conn:
            self.conn.execute('BEGIN')
            for series, created, points in added:
                key = (db.name, series.name)
                if created or key not in self._ids:
                    cur = self.conn.execute(
                        'INSERT INTO series (db, name, type) VALUES (?, ?, ?)',
                        (db.name, series.name, series.tp))
                    self._ids[key] = cur.lastrowid
                sid = self._ids[key]
                self.conn.executemany(
                    'INSERT INTO points (series_id, ts, value, batch) VALUES (?, ?, ?, ?)',
                    ((sid, ts, value, batch) for ts, value, batch in points))

    def series_dropped(self, db: Database, names: list[bytes]) -> None:
        """Forget the named series and their points."""
        with self.conn:
            self.conn.execute('BEGIN')
            for name in names:
                sid = self._ids.pop((db.name, name), None)
                if sid is None:
                    continue
                self.conn.execute('DELETE FROM points WHERE series_id = ?', (sid,))
                self.conn.execute('DELETE FROM series WHERE id = ?', (sid,))
