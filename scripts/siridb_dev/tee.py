"""The tee: copies of every insert streamed to a listener, with SiriDB's quirks.

SiriDB connects to the listener lazily: the insert that finds no live connection
starts a connect and is NOT forwarded, whether the connect works or not; inserts while
the listener is down are lost; nothing is buffered or retried.  After a refused
connect 'show tee' reports 'failed to make connection' until the tee is set again.

Here the insert that starts the connect waits for its outcome (at most
CONNECT_TIMEOUT) before it is answered, so that the state a client sees after the
reply is settled; that insert is still dropped, as in SiriDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import qpack

from .framing import pack_tee_package
from .insert import SeriesPoints
from .wire import OPEN_MAP, pack_points

log = logging.getLogger(__name__)

DEFAULT_TEE_PORT = 9104
CONNECT_TIMEOUT = 1.0
FAILED_STATUS = 'failed to make connection'
DISABLED_STATUS = 'disabled'


class TeeAddressError(ValueError):
    """A tee address that is not ADDRESS[:PORT]."""


def parse_tee_address(text: str) -> tuple[str, int]:
    """Split 'host', 'host:port' or '[v6]:port' (default port 9104)."""
    host, port_text = text, ''
    if text.startswith('['):
        host, _, rest = text[1:].partition(']')
        if rest and not rest.startswith(':'):
            raise TeeAddressError(text)
        port_text = rest[1:]
    elif text.count(':') == 1:
        host, port_text = text.split(':')
    port = DEFAULT_TEE_PORT
    if port_text or text.endswith(':'):
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise TeeAddressError(text)
        port = int(port_text)
    if not host or any(c.isspace() for c in host):
        raise TeeAddressError(text)
    return host, port


def format_tee_address(host: str, port: int) -> str:
    """The form 'show tee' reports: host:port."""
    return f'[{host}]:{port}' if ':' in host else f'{host}:{port}'


def encode_tee_body(request: list[SeriesPoints]) -> bytes:
    """The tee body: open map (never closed) of NUL-terminated names to raw points."""
    parts = [OPEN_MAP]
    for item in request:
        parts.append(qpack.packb(item.name + b'\x00'))
        parts.append(pack_points(item.points))
    return b''.join(parts)


class Tee:
    """The tee of one database: its address, connection and status."""

    def __init__(self, address: str | None = None) -> None:
        self.address: tuple[str, int] | None = None
        self.failed = False
        self._sock: socket.socket | None = None
        self._queue: asyncio.Queue[bytes] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connecting = False
        self._generation = 0
        if address:
            self.address = parse_tee_address(address)

    def status(self) -> str:
        """What 'show tee' reports."""
        if self.address is None:
            return DISABLED_STATUS
        return FAILED_STATUS if self.failed else format_tee_address(*self.address)

    def configure(self, address: tuple[str, int] | None) -> None:
        """Set or clear the address; closes any connection, resets the status."""
        self.close()
        self.address = address
        self.failed = False
        self._generation += 1
        self._connecting = False

    def close(self) -> None:
        """Drop the connection (the listener sees EOF)."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self._queue = None
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _alive(self) -> bool:
        if self._sock is None:
            return False
        try:
            # A peek notices a listener that closed before our reader task ran.
            if self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b'':
                self.close()
                return False
        except BlockingIOError:
            return True
        except OSError:
            self.close()
            return False
        return True

    async def forward(self, request: list[SeriesPoints]) -> None:
        """Send one insert to the listener, or (re)connect and lose it."""
        if self.address is None or not request or self._connecting:
            return
        if self._alive() and self._queue is not None:
            self._queue.put_nowait(pack_tee_package(encode_tee_body(request)))
            return
        await self._connect(*self.address)

    async def _connect(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._connecting = True
        generation = self._generation
        sock = None
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), CONNECT_TIMEOUT)
            family, _, _, _, sockaddr = infos[0]
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            await asyncio.wait_for(loop.sock_connect(sock, sockaddr), CONNECT_TIMEOUT)
        except (TimeoutError, OSError) as exc:
            log.warning('tee: cannot connect to %s:%d: %s', host, port, exc)
            if sock is not None:
                sock.close()
            if generation == self._generation:
                self.failed = True
            return
        finally:
            if generation == self._generation:
                self._connecting = False
        if generation != self._generation:
            # The tee was set again while connecting: this connection is stale.
            sock.close()
            return
        log.info('tee: connected to %s:%d', host, port)
        self._sock = sock
        self._queue = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._read(sock)),
                       asyncio.create_task(self._write(sock, self._queue))]

    async def _read(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            # Whatever the listener sends is ignored; an EOF ends the connection.
            while await loop.sock_recv(sock, 65536):
                pass
        except OSError as exc:
            log.info('tee: connection error: %s', exc)
        if sock is self._sock:
            log.info('tee: listener closed the connection')
            self.close()

    async def _write(self, sock: socket.socket, queue: asyncio.Queue[bytes]) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await loop.sock_sendall(sock, await queue.get())
        except OSError as exc:
            log.info('tee: write failed: %s', exc)
            if sock is self._sock:
                self.close()
