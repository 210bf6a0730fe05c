"""The hub's SQLite store: everything that must survive a restart or a kill -9.

The hub loop changes state inside an open transaction and commits once per turn,
before it sends the replies of that turn: an acknowledged change is always on disk
(group commit). WAL with synchronous=NORMAL keeps committed data across a process
crash; only a power loss can take the last transactions.

The loop's commits run on a writer thread (`commit_in_background`), which also opens
the next turn's transaction with BEGIN IMMEDIATE: whatever waits on the disk or on a
lock (a checkpoint's fsync, writeback throttling, another process holding SQLite's write
lock) waits there, while the loop keeps its peers alive (see HubServer).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import ujson

from actors.hub.datadir import make_private
from actors.hub.store_schema import SCHEMA

DB_FILE = "hub.sqlite3"
#: Seconds one SQLite statement waits for a lock before the writer thread says so and
#: waits again (the hub never gives up a commit: its replies depend on it).
BUSY_TIMEOUT = 5.0

log = logging.getLogger(__name__)


def _dumps(value: Any) -> str:
    return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)


class Store:
    """Tables of JSON records keyed by name; one open transaction per hub turn."""

    def __init__(self, data_dir: str) -> None:
        os.makedirs(data_dir, mode=0o700, exist_ok=True)
        self.path = os.path.join(data_dir, DB_FILE)
        make_private(self.path)
        self.db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._in_tx = False
        self._dirty = False
        self._writer: ThreadPoolExecutor | None = None
        #: Commits made: a change written before commit number n is on disk once this is > n.
        self.commits = 0

    def _begin(self) -> None:
        self._dirty = True
        if not self._in_tx:
            self.db.execute("BEGIN")
            self._in_tx = True

    def commit(self) -> None:
        """Make every change since the last commit durable (on this thread)."""
        if self._in_tx:
            self._execute_until_done("COMMIT")
            self._in_tx = False
            self.commits += 1
        self._dirty = False

    def commit_in_background(self) -> Future[None]:
        """Commit on the writer thread, then open the next transaction there; a Future.

        Until the Future is done the caller must not touch the store (one connection,
        and its next transaction is not open yet). Nothing changed: a done Future, no
        thread hop.
        """
        done: Future[None] = Future()
        if not self._dirty:
            done.set_result(None)
            return done
        self._dirty = False
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="hub-commit")
        return self._writer.submit(self._commit_and_begin)

    def _commit_and_begin(self) -> None:
        if self._in_tx:
            self._execute_until_done("COMMIT")
            self._in_tx = False
            self.commits += 1
        # The write lock for the next turn is taken here, off the loop: a write in a
        # handler then never waits for it.
        self._execute_until_done("BEGIN IMMEDIATE")
        self._in_tx = True

    def _execute_until_done(self, statement: str) -> None:
        started = time.monotonic()
        while True:
            try:
                self.db.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                log.warning("%s waits for the database for %.0f s: %s (held by another "
                            "process?)", statement, time.monotonic() - started, exc)

    def rollback(self) -> None:
        """Drop every change since the last commit."""
        if self._in_tx:
            self.db.execute("ROLLBACK")
            self._in_tx = False

    def close(self) -> None:
        """Commit what is pending and close the database."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
        self.commit()
        self.db.close()

    def write(self, statement: str, params: Iterable[Any] = (), many: bool = False,
              ) -> sqlite3.Cursor:
        """Run a writing statement in the turn's transaction (many: once per params item)."""
        self._begin()
        if many:
            return self.db.executemany(statement, params)
        return self.db.execute(statement, tuple(params))

    # meta -----------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """Return a meta value (hub id, schema version) or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value."""
        self._begin()
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # series ---------------------------------------------------------------
    def load_series(self) -> Iterator[tuple[str, str, str]]:
        """Yield (name, config, runtime) of every stored series in creation order, as JSON
        text (Series.restore decodes it into compact records)."""
        yield from self.db.execute("SELECT name, config, runtime FROM series ORDER BY rowid")

    def put_series(self, name: str, config: dict, runtime: dict) -> None:
        """Insert or replace one series."""
        self._begin()
        self.db.execute(
            "INSERT OR REPLACE INTO series (name, config, runtime) VALUES (?, ?, ?)",
            (name, _dumps(config), _dumps(runtime)),
        )

    def put_series_config(self, name: str, config: dict) -> None:
        """Replace a series' config only (its runtime and count journal stay as they are)."""
        self._begin()
        self.db.execute("UPDATE series SET config = ? WHERE name = ?", (_dumps(config), name))

    def put_runtimes(self, rows: Iterable[tuple[str, dict]]) -> None:
        """Update the runtime record of many series at once."""
        self._begin()
        self.db.executemany(
            "UPDATE series SET runtime = ? WHERE name = ?",
            ((_dumps(runtime), name) for name, runtime in rows),
        )

    def append_counts(self, counts: dict[str, int]) -> int:
        """Journal one turn's point counts (one row, not one per series); return its id."""
        self._begin()
        return self.db.execute(
            "INSERT INTO count_journal (counts) VALUES (?)", (_dumps(counts),)
        ).lastrowid

    def load_count_journal(self) -> Iterator[tuple[int, dict[str, int]]]:
        """Yield (id, counts) of every journalled turn, oldest first."""
        for row_id, counts in self.db.execute("SELECT id, counts FROM count_journal ORDER BY id"):
            yield row_id, ujson.loads(counts)

    def trim_count_journal(self, upto: int) -> None:
        """Forget journalled counts up to id upto (every series runtime holds them now)."""
        self._begin()
        self.db.execute("DELETE FROM count_journal WHERE id <= ?", (upto,))

    def delete_series(self, name: str) -> None:
        """Delete a series and everything stored for it."""
        self._begin()
        for table in ("series", "models", "outputs"):
            self.db.execute(f"DELETE FROM {table} WHERE name = ?", (name,))

    # key/value tables -----------------------------------------------------
    def load_settings(self) -> dict[str, Any]:
        """Return the stored settings."""
        return {k: ujson.loads(v) for k, v in self.db.execute("SELECT key, value FROM settings")}

    def put_settings(self, values: dict[str, Any]) -> None:
        """Store settings values."""
        self._begin()
        self.db.executemany(
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
            ((k, _dumps(v)) for k, v in values.items()),
        )

    def load_clients(self) -> Iterator[tuple[str, str, dict]]:
        """Yield (client_id, client_type, info) of every known client."""
        for client_id, client_type, info in self.db.execute(
            "SELECT client_id, client_type, info FROM clients"
        ):
            yield client_id, client_type, ujson.loads(info)

    def put_clients(self, rows: Iterable[tuple[str, str, dict]]) -> None:
        """Insert or replace client records."""
        self._begin()
        self.db.executemany(
            "INSERT OR REPLACE INTO clients (client_id, client_type, info) VALUES (?, ?, ?)",
            ((cid, ctype, _dumps(info)) for cid, ctype, info in rows),
        )

    def get_model(self, name: str) -> dict | None:
        """Return the stored model state of a series, or None."""
        row = self.db.execute("SELECT state FROM models WHERE name = ?", (name,)).fetchone()
        return ujson.loads(row[0]) if row else None

    def put_model(self, name: str, state: dict | None) -> None:
        """Store (or with None, delete) the model state of a series."""
        self._begin()
        if state is None:
            self.db.execute("DELETE FROM models WHERE name = ?", (name,))
        else:
            self.db.execute(
                "INSERT INTO models (name, state) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET state = excluded.state", (name, _dumps(state))
            )

    def get_output(self, name: str, kind: str) -> Any:
        """Return a stored output (forecast, anomalies) of a series, or None."""
        row = self.db.execute(
            "SELECT value FROM outputs WHERE name = ? AND kind = ?", (name, kind)
        ).fetchone()
        return ujson.loads(row[0]) if row else None

    def put_output(self, name: str, kind: str, value: Any) -> None:
        """Store an output of a series, replacing the previous one.

        An upsert, which updates the row in place: INSERT OR REPLACE deletes it and inserts
        it again, index entry and all, and cost 35-40 us a row against 24-26 us (one a job
        result writes two, the forecast and the detector state; bench/scale.py).
        """
        self._begin()
        self.db.execute(
            "INSERT INTO outputs (name, kind, value) VALUES (?, ?, ?) "
            "ON CONFLICT (name, kind) DO UPDATE SET value = excluded.value",
            (name, kind, _dumps(value)),
        )

    def load_jobs(self) -> Iterator[dict]:
        """Yield every stored job record."""
        for (record,) in self.db.execute("SELECT record FROM jobs ORDER BY rowid"):
            yield ujson.loads(record)

    def put_jobs(self, records: list[dict]) -> None:
        """Insert or replace job records."""
        self._begin()
        self.db.executemany(
            "INSERT OR REPLACE INTO jobs (job_id, record) VALUES (?, ?)",
            [(record["job_id"], _dumps(record)) for record in records],
        )

    def delete_jobs(self, job_ids: list[str]) -> None:
        """Forget finished jobs."""
        self._begin()
        self.db.executemany("DELETE FROM jobs WHERE job_id = ?", [(i,) for i in job_ids])

    # events ---------------------------------------------------------------
    def add_event(self, ts: float, level: str, kind: str, message: str, series: str | None) -> None:
        """Append one event to the log."""
        self._begin()
        self.db.execute(
            "INSERT INTO events (ts, level, kind, message, series) VALUES (?, ?, ?, ?, ?)",
            (ts, level, kind, message, series),
        )

    def recent_events(self, limit: int) -> list[dict]:
        """Return the newest events first."""
        rows = self.db.execute(
            "SELECT id, ts, level, kind, message, series FROM events ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        keys = ("id", "ts", "level", "kind", "message", "series")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def trim_events(self, keep: int) -> None:
        """Delete all but the newest `keep` events."""
        self._begin()
        self.db.execute(
            "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?", (keep,)
        )
