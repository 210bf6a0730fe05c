"""SiriDB access for a job: queries, chunked history reads, and writing outputs back.

The query builders and the chunk planning are pure functions; `SiriDB` wraps one
siridb-connector client and translates its failures into two exceptions: `SiriDBUnavailable`
(transient: worth a retry elsewhere or later) and `SiriDBQueryFailed` (the server refused).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from actors.common.siridb_queries import (
    MAX_HEAD_TAIL,
    between_query,
    count_query,
    drop_query,
    head_query,
    output_series,
    tail_query,
)
from actors.worker.config import SiriDBSettings

#: Points per select; far under SiriDB's head/tail limit and select_points_limit (1,000,000).
DEFAULT_CHUNK_POINTS = 100_000
PRECISION_FACTORS = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}

Point = tuple[int, float]


class SiriDBUnavailable(Exception):
    """SiriDB could not be reached or did not answer in time (transient)."""


class SiriDBQueryFailed(Exception):
    """SiriDB refused a query or an insert."""


class SeriesNotFound(Exception):
    """The series is absent from SiriDB."""


def output_names(series: str) -> dict[str, str]:
    """Return the forecast and anomaly series derived from a watched series name."""
    names = output_series(series)
    return {kind: names[kind] for kind in ("forecast", "lower", "upper", "anomalies")}


def convert_ts(ts: int, source: str, target: str) -> int:
    """Convert an integer timestamp between time precisions (exact when going finer)."""
    src, dst = PRECISION_FACTORS[source], PRECISION_FACTORS[target]
    if src == dst:
        return ts
    return ts * (dst // src) if dst > src else ts // (src // dst)


@dataclass(frozen=True)
class Window:
    """One time range to read: start <= ts < end."""

    start: int
    end: int


def first_width(first_ts: int, last_ts: int, total: int, chunk_points: int) -> int:
    """Width of the first backward window, sized for ~chunk_points at the mean density."""
    span = max(1, last_ts - first_ts + 1)
    if total <= 0:
        return span
    return max(1, min(span, span * chunk_points // total))


def next_width(width: int, got: int, chunk_points: int) -> int:
    """Width of the next window, scaled by the density the last one showed (x0.5 to x4)."""
    if got <= 0:
        return width * 4
    scaled = width * chunk_points // got
    return max(1, min(width * 4, max(width // 2, scaled)))


def windows_backward(end: int, first_ts: int, width: int) -> Window:
    """The window of `width` just before end, not starting before first_ts."""
    return Window(max(first_ts, end - width), end)


def last_points(chunks: Iterable[Sequence[Any]], want: int) -> list[Point]:
    """Join chunks (oldest first) and keep the last `want` points as (int, float)."""
    joined: list[Point] = []
    for chunk in chunks:
        joined.extend((int(ts), float(value)) for ts, value in chunk)
    return joined[-want:] if want > 0 else []


class SiriDB:
    """One connection to a SiriDB database, opened lazily and reused across jobs."""

    def __init__(self, settings: SiriDBSettings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._client: Any = None
        self.time_precision: str | None = None

    async def _connect(self) -> Any:
        if self._client is not None and self._client.connected:
            return self._client
        self.close()
        from siridb.connector import SiriDBClient

        s = self.settings
        client = SiriDBClient(
            s.user, s.password, s.database, [(s.host, s.port)],
            keepalive=True, timeout=self.timeout, max_wait_retry=5,
        )
        try:
            results = await asyncio.wait_for(client.connect(), self.timeout + 1)
        except OSError as exc:  # TimeoutError included
            client.close()
            raise SiriDBUnavailable(f"cannot connect to SiriDB {s.describe()}: {exc!r}") from None
        failures = [r for r in results or () if isinstance(r, BaseException)]
        if failures or not client.connected:
            client.close()
            reason = repr(failures[0]) if failures else "not connected"
            raise SiriDBUnavailable(f"cannot connect to SiriDB {s.describe()}: {reason}")
        self._client = client
        try:
            reply = await self._call(client.query("show time_precision", timeout=self.timeout))
            self.time_precision = str(reply["data"][0]["value"])
        except (KeyError, IndexError, TypeError):
            self.close()
            raise SiriDBQueryFailed("unexpected reply to 'show time_precision'") from None
        return client

    async def _call(self, awaitable: Any) -> Any:
        from siridb.connector.lib import exceptions as siri

        try:
            return await asyncio.wait_for(awaitable, self.timeout * 6)
        except (siri.QueryError, siri.InsertError) as exc:
            raise SiriDBQueryFailed(str(exc) or type(exc).__name__) from None
        except siri.AuthenticationError as exc:
            self.close()
            raise SiriDBUnavailable(f"SiriDB refused the credentials: {exc}") from None
        except (siri.ServerError, siri.PoolError, OSError) as exc:  # timeouts are OSErrors
            self.close()
            raise SiriDBUnavailable(
                f"SiriDB {self.settings.describe()} failed: {exc!r}"
            ) from None

    async def query(self, text: str) -> Any:
        """Run a query in the database's own precision and return the reply."""
        client = await self._connect()
        return await self._call(client.query(text, timeout=self.timeout * 6))

    async def insert(self, data: dict[str, list[list[Any]]]) -> None:
        """Insert {name: [[ts, value], ...]}."""
        client = await self._connect()
        await self._call(client.insert(data, timeout=self.timeout * 6))

    async def precision(self) -> str:
        """The database's time precision (read once per connection)."""
        await self._connect()
        return self.time_precision or "ms"

    async def count(self, name: str) -> tuple[int, int]:
        """Return (points, last timestamp) of a series; SeriesNotFound when absent."""
        reply = await self.query(count_query(name))
        rows = reply.get(name) if isinstance(reply, dict) else None
        if rows is None:
            raise SeriesNotFound(f"series {name!r} not found in SiriDB")
        if not rows:
            return 0, 0
        last_ts, count = rows[0]
        return int(count), int(last_ts)

    async def select(self, text: str, name: str) -> list[Any]:
        """Run a select and return the points of `name` ([] when absent)."""
        reply = await self.query(text)
        return list(reply.get(name) or ()) if isinstance(reply, dict) else []

    async def read_last(
        self, name: str, want: int, total: int, last_ts: int,
        chunk_points: int = DEFAULT_CHUNK_POINTS, since: int | None = None,
        until: int | None = None,
    ) -> list[Point]:
        """Read the last `want` points with since <= ts < until, in chunks of ~chunk_points."""
        # Whatever the caller passes, a tail stays inside SiriDB's 1..1,000,000.
        chunk_points = max(1, min(chunk_points, MAX_HEAD_TAIL))
        end = last_ts + 1 if until is None else min(last_ts + 1, until)
        if want <= 0 or total <= 0 or (since is not None and since >= end):
            return []
        if since is None and until is None and want <= chunk_points:
            return last_points([await self.select(tail_query(name, want), name)], want)
        if total <= chunk_points:
            start = 0 if since is None else since  # timestamps are >= 0 in SiriDB
            return last_points([await self.select(between_query(name, start, end), name)], want)
        head = await self.select(head_query(name, 1), name)
        first_ts = int(head[0][0]) if head else last_ts
        width = first_width(first_ts, last_ts, total, chunk_points)
        start = first_ts if since is None else max(first_ts, since)
        chunks: list[list[Any]] = []
        got = 0
        while got < want and end > start:
            window = windows_backward(end, start, width)
            chunk = await self.select(between_query(name, window.start, window.end), name)
            chunks.insert(0, chunk)
            got += len(chunk)
            width = next_width(window.end - window.start, len(chunk), chunk_points)
            end = window.start
        return last_points(chunks, want)

    async def drop(self, name: str) -> None:
        """Drop one series by exact name (absent is fine: SiriDB drops 0 series).

        A refusal raises SiriDBQueryFailed: swallowing it would leave the old points in
        place and the next insert would add to them.
        """
        await self.query(drop_query(name))

    def close(self) -> None:
        """Close the connection (the next call reconnects)."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self.time_precision = None
