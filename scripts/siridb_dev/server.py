"""The asyncio server: framing, per-connection authentication and the handler table."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .framing import (
    HEADER_SIZE,
    MAX_BODY_SIZE,
    Reply,
    Request,
    check_byte,
    pack_package,
    unpack_header,
)
from .insert import InsertError, count_points, parse_insert
from .query import QueryContext, execute_query
from .service import ServiceAccount, handle_service
from .storage import Database, Store
from .tee import Tee
from .wire import BodyError, decode_body, pack_error, pack_success

log = logging.getLogger(__name__)

Answer = tuple[int, bytes] | None
#: Largest QUERY package body SiriDB accepts; larger ones are answered 'Query too long.'.
MAX_QUERY_BODY = 65535


@dataclass
class Session:
    """One client connection: who it is logged in as, if anyone."""

    peer: str
    db: Database | None = None
    user: bytes = b''


class SiriDevServer:
    """Serves SiriDB's client protocol over TCP (and optionally a Unix socket)."""

    def __init__(self, store: Store, account: ServiceAccount | None = None,
                 clock: Callable[[], float] = time.time, select_delay: float = 0.0) -> None:
        self.store = store
        self.account = account or ServiceAccount()
        self.clock = clock
        # Fault injection for tests: every `select` answers this many seconds late (a slow
        # disk or a huge history), so a job can be caught while it runs.
        self.select_delay = select_delay
        self.started = clock()
        self.server_name = 'siridb-dev:9010'
        self.tees: dict[str, Tee] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._handlers: dict[int, Callable[[Session, bytes], Awaitable[Answer]]] = {
            Request.QUERY: self.on_query,
            Request.INSERT: self.on_insert,
            Request.AUTH: self.on_auth,
            Request.PING: self.on_ping,
            Request.SERVICE: self.on_service,
        }

    async def listen_tcp(self, host: str, port: int) -> int:
        """Start listening on TCP; returns the port (useful with port 0)."""
        server = await asyncio.start_server(self._serve, host, port)
        self._servers.append(server)
        bound = server.sockets[0].getsockname()[1]
        self.server_name = f'{host}:{bound}'
        return bound

    async def listen_unix(self, path: str) -> None:
        """Also listen on a Unix socket."""
        self._servers.append(await asyncio.start_unix_server(self._serve, path))

    async def close(self) -> None:
        """Stop listening and drop the tee connections."""
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        for tee in self.tees.values():
            tee.close()

    def tee_for(self, db: Database) -> Tee:
        """The tee of a database, created from its stored address on first use."""
        tee = self.tees.get(db.name)
        if tee is None:
            tee = self.tees[db.name] = Tee(db.tee)
        return tee

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(peer=str(writer.get_extra_info('peername') or 'unix'))
        log.debug('connection from %s', session.peer)
        try:
            await self._serve_packages(session, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _serve_packages(self, session: Session, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
        while True:
            length, pid, tp, check = unpack_header(await reader.readexactly(HEADER_SIZE))
            if check != check_byte(tp):
                log.error('invalid check bit from %s (type %d): closing', session.peer, tp)
                return
            if length > MAX_BODY_SIZE:
                log.error('package of %d bytes from %s is too big: closing', length, session.peer)
                return
            body = await reader.readexactly(length)
            handler = self._handlers.get(tp)
            if handler is None:
                log.error('unsupported package type %d from %s: ignored', tp, session.peer)
                continue
            try:
                answer = await handler(session, body)
            except Exception:
                # One bad request must never stop the server: log it and answer an error.
                log.exception('error handling package type %d', tp)
                answer = Reply.ERR_SERVER, pack_error('Internal error in the development server.')
            if answer is not None:
                writer.write(pack_package(pid, answer[0], answer[1]))
                await writer.drain()

    async def on_ping(self, session: Session, body: bytes) -> Answer:
        """PING works without authentication."""
        return Reply.ACK, b''

    async def on_auth(self, session: Session, body: bytes) -> Answer:
        """AUTH [user, password, dbname]; a failed re-AUTH keeps the old login."""
        try:
            request = decode_body(body)
        except BodyError:
            request = None
        if not (isinstance(request, list) and len(request) == 3
                and all(isinstance(v, bytes) for v in request)):
            log.error("Incorrect package received: 'on_auth'")
            return None
        user, password, dbname = request
        db = self.store.databases.get(dbname.decode('utf-8', 'replace'))
        if db is None:
            return Reply.AUTH_UNKNOWN_DB, b''
        if db.users.get(user) != password:
            return Reply.AUTH_CREDENTIALS, b''
        session.db, session.user = db, user
        return Reply.AUTH_SUCCESS, b''

    async def on_query(self, session: Session, body: bytes) -> Answer:
        """QUERY [query, time_precision or null]; a malformed body gets no reply."""
        if session.db is None:
            return Reply.NOT_AUTHENTICATED, b''
        if len(body) > MAX_QUERY_BODY:
            # SiriDB measures the whole package body, not the query text inside it.
            return Reply.ERR_QUERY, pack_error('Query too long.')
        try:
            request = decode_body(body)
        except BodyError:
            request = None
        if not (isinstance(request, list) and request and isinstance(request[0], bytes)):
            log.error("Incorrect package received: 'on_query'")
            return None
        wanted = request[1] if len(request) > 1 else None
        if self.select_delay > 0 and request[0].lstrip()[:6].lower() == b'select':
            await asyncio.sleep(self.select_delay)
        ctx = QueryContext(session.db, session.user, self.tee_for(session.db),
                           server_name=self.server_name, started=self.started, clock=self.clock)
        return execute_query(ctx, request[0], wanted)

    async def on_insert(self, session: Session, body: bytes) -> Answer:
        """INSERT: validate all, copy to the tee, then store."""
        db = session.db
        if db is None:
            return Reply.NOT_AUTHENTICATED, b''
        try:
            request = parse_insert(decode_body(body), db.time_precision == 's')
        except BodyError:
            return Reply.ERR_INSERT, pack_error(
                'Expecting an array or map containing series and points.')
        except InsertError as exc:
            return Reply.ERR_INSERT, pack_error(str(exc))
        total = count_points(request)
        if total:
            await self.tee_for(db).forward(request)
            db.insert(request)
        return Reply.RES_INSERT, pack_success(f'Successfully inserted {total} point(s).')

    async def on_service(self, session: Session, body: bytes) -> Answer:
        """SERVICE requests need no AUTH, only the service account."""
        try:
            request: Any = decode_body(body)
        except BodyError:
            return Reply.ERR_SERVICE_INVALID_REQUEST, b''
        return handle_service(self.store, self.account, request)
