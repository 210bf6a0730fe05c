"""Asyncio server for SiriDB's tee: accept SiriDB's connections, count points per package.

What connections may cost is bounded by TeeLimits (tee_limits.py): connections beyond
`max_connections` are closed at once; bytes of unfinished packages are counted across all
connections, and a connection that takes the total past `max_buffered` stops being read until
others free room (SiriDB then queues, as with any slow reader); a package that has not
arrived whole within `package_timeout`, or a connection silent for `idle_timeout`, is closed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
from collections.abc import Callable
from typing import Any, cast

from actors.listener.tee import TeeFramer, TeeProtocolError, decode_counts
from actors.listener.tee_limits import TeeLimits
from actors.listener.tee_socket import TeeServerError, remove_stale_socket

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9104
# SiriDB connects to the socket, so its user needs write permission: owner and group, as
# when SiriDB's user is in the listener's group; anyone else could inject counts.
DEFAULT_UNIX_MODE = 0o660


class _TeeConnection(asyncio.Protocol):
    """One SiriDB connection: frame, decode, report; a bad package closes only this one."""

    def __init__(self, server: TeeServer, label: str) -> None:
        self._server = server
        self._framer = TeeFramer(server.limits.max_package_size)
        self._transport: asyncio.Transport | None = None
        self._failed = False
        self._refused = False
        self.peer = label
        self.held = 0  # bytes of unfinished packages, as counted in server.buffered
        self.paused = False
        self.package_since: float | None = None  # when the unfinished package began
        self.last_data = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        if isinstance(peername, tuple) and len(peername) >= 2:
            self.peer = f"{peername[0]}:{peername[1]}"
        server = self._server
        if len(server._connections) >= server.limits.max_connections:
            self._refused = True
            server.refused += 1
            server._log_refusal(self.peer)
            self._transport.abort()
            return
        self.last_data = server.now()
        server._connections.add(self)
        server._connections_changed()
        log.info("tee: connection from %s", self.peer)

    def data_received(self, data: bytes) -> None:
        if self._failed or self._refused:
            return
        server = self._server
        on_counts = server.on_counts
        decode = server.decode
        self.last_data = now = server.now()
        finished = False
        try:
            for body in self._framer.feed(data):
                finished = True
                counts = decode(body)
                server.packages += 1
                try:
                    on_counts(counts)
                except Exception:
                    log.exception("tee: on_counts failed for a package from %s", self.peer)
        except TeeProtocolError as exc:
            self.close_for(str(exc))
            server.protocol_errors += 1
            return
        held = self._framer.buffered
        if not held:
            self.package_since = None
        elif finished or self.package_since is None:
            self.package_since = now
        server._hold(self, held)

    def close_for(self, reason: str) -> None:
        """Log why and close this connection (what it buffered is given back)."""
        if self._failed:
            return
        self._failed = True
        log.warning("tee: closing connection from %s: %s", self.peer, reason)
        self.abort()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._server._paused.discard(self)
        self._server._hold(self, 0)
        self._server._connections.discard(self)
        leftover = self._framer.buffered
        # Said at info level for every connection, also after a failure: the failure's warning
        # may be held back by the repeat limit, and this line is how a reader sees the end.
        if self._failed:
            log.info("tee: %s closed after an error", self.peer)
        elif leftover:
            log.info("tee: %s closed with %d bytes of an unfinished package", self.peer, leftover)
        else:
            log.info("tee: %s closed", self.peer)
        self._server._connections_changed()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class TeeServer:
    """Serve the tee on TCP and optionally a Unix socket; call `on_counts` once per package.

    `on_counts(decode(body))` runs in the event loop for every package, in arrival order per
    connection. With the default `decode_counts` it gets {series name: points} for every series
    of the package. The fast wiring is `TeeServer(counter.add_raw, decode=counter.count_watched)`
    (a PointCounter): only watched series are counted and no name is decoded. `decode` raising
    TeeProtocolError closes that connection (one warning naming the peer and the reason); an
    exception from `on_counts` is logged and the connection goes on. Neither may block: a slow
    reader makes SiriDB's memory grow. `limits` bounds connections, memory and time.
    """

    def __init__(
        self,
        on_counts: Callable[[Any], object],
        *,
        decode: Callable[[bytes], Any] = decode_counts,
        host: str | None = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        unix_path: str | None = None,
        unix_mode: int = DEFAULT_UNIX_MODE,
        limits: TeeLimits | None = None,
    ) -> None:
        if host is None and unix_path is None:
            raise ValueError("the tee server needs a TCP host or a Unix socket path")
        self.on_counts = on_counts
        self.decode = decode
        self.host = host
        self._port = port
        self.unix_path = unix_path
        self.unix_mode = unix_mode
        self.limits = limits or TeeLimits()
        self.packages = 0
        self.protocol_errors = 0
        self.refused = 0  # connections closed at once: max_connections were open
        self.buffered = 0  # bytes of unfinished packages across all connections
        self._paused: set[_TeeConnection] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._refusals_logged_at = -math.inf
        self._refusals_unlogged = 0
        self._servers: list[asyncio.AbstractServer] = []
        self._connections: set[_TeeConnection] = set()
        self._unix_inode: int | None = None
        self._ids = itertools.count(1)
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def port(self) -> int:
        """The TCP port, the bound one once started (useful with port 0)."""
        return self._port

    @property
    def connection_count(self) -> int:
        """Number of open SiriDB connections."""
        return len(self._connections)

    async def start(self) -> None:
        """Bind and start accepting connections; TeeServerError if an address is unusable."""
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(self.limits.sweep_interval, self._sweep)
        try:
            if self.host is not None:
                try:
                    server = await loop.create_server(
                        lambda: _TeeConnection(self, f"tcp#{next(self._ids)}"),
                        self.host,
                        self._port,
                        reuse_address=True,
                    )
                except OSError as exc:
                    raise TeeServerError(
                        f"cannot listen on {self.host}:{self._port}: {exc}"
                    ) from exc
                self._servers.append(server)
                self._port = server.sockets[0].getsockname()[1]
                log.info("tee: listening on %s:%d", self.host, self._port)
            if self.unix_path is not None:
                remove_stale_socket(self.unix_path)
                try:
                    server = await loop.create_unix_server(
                        lambda: _TeeConnection(self, f"unix:{self.unix_path}#{next(self._ids)}"),
                        self.unix_path,
                    )
                except OSError as exc:
                    raise TeeServerError(f"cannot listen on {self.unix_path}: {exc}") from exc
                self._servers.append(server)
                os.chmod(self.unix_path, self.unix_mode)
                self._unix_inode = os.stat(self.unix_path).st_ino
                log.info("tee: listening on unix:%s", self.unix_path)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop listening, close every connection and remove the Unix socket file."""
        servers, self._servers = self._servers, []
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for server in servers:
            server.close()
        for conn in list(self._connections):
            conn.abort()
        for server in servers:
            await server.wait_closed()
        if self.unix_path is not None and self._unix_inode is not None:
            try:
                if os.stat(self.unix_path).st_ino == self._unix_inode:
                    os.unlink(self.unix_path)
            except FileNotFoundError:
                pass
            self._unix_inode = None
        await asyncio.sleep(0)  # let connection_lost callbacks of aborted transports run

    async def wait_connection_count(self, count: int, timeout: float) -> None:
        """Wait until exactly `count` connections are open; TimeoutError after `timeout` s."""
        async with asyncio.timeout(timeout):
            while len(self._connections) != count:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter

    @staticmethod
    def now() -> float:
        """The clock of the limits' timeouts: the running loop's (monotonic)."""
        return asyncio.get_running_loop().time()

    def _hold(self, conn: _TeeConnection, held: int) -> None:
        """Record that conn now holds `held` bytes; pause or resume reading to fit the budget."""
        self.buffered += held - conn.held
        conn.held = held
        if held and self.buffered > self.limits.max_buffered:
            if not conn.paused and conn._transport is not None:
                conn.paused = True
                self._paused.add(conn)
                conn._transport.pause_reading()
                log.info("tee: %d bytes buffered in total: reading from %s paused",
                         self.buffered, conn.peer)
        elif self._paused and self.buffered < self.limits.max_buffered:
            paused, self._paused = self._paused, set()
            for other in paused:
                other.paused = False
                if other._transport is not None and not other._transport.is_closing():
                    other._transport.resume_reading()

    def _sweep(self) -> None:
        """Close connections whose package takes too long or that have been silent too long."""
        limits = self.limits
        now = self.now()
        for conn in list(self._connections):
            if conn.package_since is not None and now - conn.package_since > limits.package_timeout:
                conn.close_for(
                    f"package of {conn.held} bytes so far unfinished after "
                    f"{limits.package_timeout:g} s"
                )
            elif limits.idle_timeout and now - conn.last_data > limits.idle_timeout:
                conn.close_for(f"silent for {limits.idle_timeout:g} s")
        self._sweeper = asyncio.get_running_loop().call_later(limits.sweep_interval, self._sweep)

    def _log_refusal(self, peer: str) -> None:
        # One line per 10 s at most: a flood of connections must not flood the log.
        self._refusals_unlogged += 1
        now = self.now()
        if now - self._refusals_logged_at >= 10.0:
            log.warning(
                "tee: refused %d connection(s) (latest from %s): %d open, max_connections %d",
                self._refusals_unlogged, peer, len(self._connections),
                self.limits.max_connections,
            )
            self._refusals_logged_at = now
            self._refusals_unlogged = 0

    def _connections_changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
