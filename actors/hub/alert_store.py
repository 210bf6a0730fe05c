"""The alert tables of the hub's store: outputs, silences, firing alerts, deliveries.

Written in the loop's turn (one transaction, committed with the turn); a delivery row
is on disk before its alert is sent, so a hub killed at any point sends it after its
restart (alert_book.py hands rows to the senders only once their turn is committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ujson

from actors.hub.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_outputs (name TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_silences (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts_firing (key TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    output TEXT NOT NULL,
    key TEXT NOT NULL,
    alert TEXT NOT NULL,
    started_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_deliveries_state ON alert_deliveries (state, id);
"""
PENDING = "pending"
#: Finished deliveries kept for GET /alerts/deliveries (pending ones are always kept).
KEEP_FINISHED = 1000

_DELIVERY = ("id", "output", "key", "alert", "started_at", "state", "attempts", "error",
             "created_at", "updated_at")


def _dumps(value: Any) -> str:
    return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)


class AlertStore:
    """Reads and writes of the alert tables (reads on the loop's thread only)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.db.executescript(SCHEMA)

    def load(self, table: str) -> Iterator[dict[str, Any]]:
        """Every record of alert_outputs, alert_silences or alerts_firing."""
        column = "config" if table == "alert_outputs" else "record"
        for (record,) in self.store.db.execute(f"SELECT {column} FROM {table} ORDER BY rowid"):
            yield ujson.loads(record)

    def put(self, table: str, key: str, record: dict[str, Any]) -> None:
        """Insert or replace one record of alert_outputs, alert_silences or alerts_firing."""
        id_col, column = {"alert_outputs": ("name", "config"), "alert_silences": ("id", "record"),
                          "alerts_firing": ("key", "record")}[table]
        self.store.write(f"INSERT OR REPLACE INTO {table} ({id_col}, {column}) VALUES (?, ?)",
                         (key, _dumps(record)))

    def delete(self, table: str, key: str) -> None:
        """Delete one record of alert_outputs, alert_silences or alerts_firing."""
        id_col = {"alert_outputs": "name", "alert_silences": "id", "alerts_firing": "key"}[table]
        self.store.write(f"DELETE FROM {table} WHERE {id_col} = ?", (key,))

    def add_delivery(self, output: str, key: str, alert: dict[str, Any], started_at: float,
                     state: str, now: float) -> int:
        """Record one delivery of one alert change to one output; return its id."""
        return self.store.write(
            "INSERT INTO alert_deliveries (output, key, alert, started_at, state, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (output, key, _dumps(alert), started_at, state, now, now)).lastrowid

    def set_delivery(self, delivery_id: int, state: str, attempts: int, error: str | None,
                     now: float) -> None:
        """Record how a delivery went."""
        self.store.write(
            "UPDATE alert_deliveries SET state = ?, attempts = ?, error = ?, updated_at = ? "
            "WHERE id = ?", (state, attempts, error, now, delivery_id))

    def drop_pending(self, output: str, reason: str, now: float) -> None:
        """Give up the pending deliveries of an output (it was removed)."""
        self.store.write(
            "UPDATE alert_deliveries SET state = 'dropped', error = ?, updated_at = ? "
            "WHERE output = ? AND state = ?", (reason, now, output, PENDING))

    def pending(self) -> list[dict[str, Any]]:
        """Every delivery not yet made, oldest first (to resume after a restart)."""
        rows = self.store.db.execute(
            f"SELECT {', '.join(_DELIVERY)} FROM alert_deliveries WHERE state = ? ORDER BY id",
            (PENDING,))
        return [self._row(row) for row in rows]

    def refused(self, output: str) -> set[str]:
        """Keys of the alerts whose newest delivery to output was rejected or expired."""
        rows = self.store.db.execute(
            "SELECT key, state FROM alert_deliveries WHERE id IN "
            "(SELECT MAX(id) FROM alert_deliveries WHERE output = ? GROUP BY key)", (output,))
        return {key for key, state in rows if state in ("rejected", "expired")}

    def pending_counts(self) -> dict[str, int]:
        """Deliveries not yet made, per output."""
        return dict(self.store.db.execute(
            "SELECT output, COUNT(*) FROM alert_deliveries WHERE state = ? GROUP BY output",
            (PENDING,)).fetchall())

    def recent(self, limit: int, output: str | None) -> list[dict[str, Any]]:
        """The newest deliveries first (of one output, or all)."""
        where, params = ("WHERE output = ?", (output, limit)) if output else ("", (limit,))
        rows = self.store.db.execute(
            f"SELECT {', '.join(_DELIVERY)} FROM alert_deliveries {where} "
            "ORDER BY id DESC LIMIT ?", params)
        return [self._row(row) for row in rows]

    def trim(self) -> None:
        """Forget all but the newest KEEP_FINISHED finished deliveries."""
        self.store.write(
            "DELETE FROM alert_deliveries WHERE state != ? AND id <= "
            "(SELECT MAX(id) FROM alert_deliveries) - ?", (PENDING, KEEP_FINISHED))

    @staticmethod
    def _row(row: tuple) -> dict[str, Any]:
        record = dict(zip(_DELIVERY, row, strict=True))
        record["alert"] = ujson.loads(record["alert"])
        return record
