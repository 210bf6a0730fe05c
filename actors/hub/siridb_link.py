"""The hub's own SiriDB connection, on a thread with its asyncio loop.

siridb-connector is asyncio-only while the hub is a synchronous poll loop, so the
connection lives on a daemon thread. The hub reads `status()` (a snapshot under a
lock) and submits queries with `submit()`, whose results come back through a
queue that the hub drains on its turn; `wakeup` is an inproc socket address that
gets one frame per result, so the hub's poller wakes without polling the queue.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from typing import Any, Protocol

import zmq

from actors.hub.telemetry import HubMetrics

log = logging.getLogger(__name__)

Result = tuple[str, Any, str | None]  # (tag, data, error)


class SiriDB(Protocol):
    """What the hub's state, scheduler and reconciler use of their SiriDB connection."""

    #: False when no SiriDB host is set: nothing is queried.
    configured: bool
    #: The database's time precision (s, ms, us, ns) once known: bounds result timestamps.
    precision: str | None
    #: Answers to `submit`, as (tag, data, error), drained by the hub's loop.
    results: queue.Queue[Result]

    def status(self) -> dict[str, Any]:
        """The connection's state: every key of the published SiriDBStatus."""
        ...

    def submit(self, tag: str, query: str) -> None:
        """Run a query; its answer arrives in `results`."""
        ...


def initial_status(settings: dict[str, Any]) -> dict[str, Any]:
    """The status of a link not yet connected (not_configured without a host)."""
    configured = bool(settings.get("host"))
    return {
        "status": "connecting" if configured else "not_configured",
        "configured": configured,
        "connected": False,
        "error": None,
        "host": settings.get("host") or None,
        "port": settings.get("port") if configured else None,
        "database": settings.get("database") if configured else None,
    }


class NoSiriDB:
    """The SiriDB of a hub state built without a link (tests, tools): not configured."""

    configured = False
    precision: str | None = None

    def __init__(self) -> None:
        self.results: queue.Queue[Result] = queue.Queue()

    def status(self) -> dict[str, Any]:
        """Not configured, as a SiriDBLink without a host says."""
        return initial_status({})

    def submit(self, tag: str, query: str) -> None:
        """Answer at once that nothing can be asked."""
        self.results.put((tag, None, "SiriDB is not configured"))


class SiriDBLink:
    """A SiriDB client on its own thread: health checks and queries for the hub."""

    def __init__(
        self,
        settings: dict[str, Any],
        check_interval: float,
        ctx: zmq.Context,
        wakeup: str,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or HubMetrics()
        self.configured = bool(settings.get("host"))
        self.check_interval = check_interval
        self.results: queue.Queue[Result] = queue.Queue()
        self._lock = threading.Lock()
        self._status = initial_status(settings)
        self._ctx = ctx
        self._wakeup = wakeup
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    #: The database's time precision (s, ms, us, ns) once a health check read it.
    precision: str | None = None

    def status(self) -> dict[str, Any]:
        """Return a snapshot of the connection state."""
        with self._lock:
            return dict(self._status)

    def start(self) -> None:
        """Start the thread (nothing to do when SiriDB is not configured)."""
        if not self.configured:
            return
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="siridb-link", daemon=True
        )
        self._thread.start()
        ready.wait(5)

    def stop(self) -> None:
        """Stop the thread and close the connection."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(5)

    def submit(self, tag: str, query: str, results: queue.Queue[Result] | None = None,
               kind: str = "count") -> None:
        """Run query on the thread; its result arrives as (tag, data, error) in `results`
        (by default the link's own queue); `kind` labels its metrics."""
        into = self.results if results is None else results
        if self._loop is None:
            into.put((tag, None, "SiriDB is not configured"))
            return
        asyncio.run_coroutine_threadsafe(self._query(tag, query, into, kind), self._loop)

    # thread side -----------------------------------------------------------
    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._status.update(changes)

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        self._push = self._ctx.socket(zmq.PUSH)
        self._push.setsockopt(zmq.LINGER, 0)
        self._push.connect(self._wakeup)
        ready.set()
        try:
            loop.run_until_complete(self._main())
        finally:
            self._push.close(linger=0)
            loop.close()

    async def _main(self) -> None:
        from siridb.connector import SiriDBClient

        s = self.settings
        self._client = SiriDBClient(
            username=s["user"], password=s["password"], dbname=s["database"],
            hostlist=[(s["host"], s["port"])], keepalive=True, timeout=10,
        )
        while not self._stop.is_set():
            await self._check()
            try:
                await asyncio.wait_for(self._stop.wait(), self.check_interval)
            except TimeoutError:
                pass
        self._client.close()

    async def _check(self) -> None:
        started = time.perf_counter()
        try:
            if not self._client.connected:
                await asyncio.wait_for(self._client.connect(), 10)
            reply = await asyncio.wait_for(self._client.query("show time_precision"), 10)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
            self.metrics.siridb_errors.labels("health_check").inc()
            self._set(status="failing", connected=False, error=_describe(exc))
            return
        self.metrics.siridb_query.labels("health_check").observe(time.perf_counter() - started)
        try:
            self.precision = str(reply["data"][0]["value"])  # bounds result timestamps
        except (KeyError, IndexError, TypeError):
            pass
        self._set(status="connected", connected=True, error=None)

    async def _query(self, tag: str, query: str, into: queue.Queue[Result], kind: str) -> None:
        started = time.perf_counter()
        try:
            if not self._client.connected:
                await asyncio.wait_for(self._client.connect(), 10)
            data = await asyncio.wait_for(self._client.query(query), 30)
            result: Result = (tag, data, None)
            self.metrics.siridb_query.labels(kind).observe(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - handed to the hub as an error
            self.metrics.siridb_errors.labels(kind).inc()
            result = (tag, None, _describe(exc))
        into.put(result)
        self._push.send(b"")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"

