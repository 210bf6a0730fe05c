"""The development server through the real siridb-connector (as the project uses it)."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qpack
from siridb.connector import SiriDBClient
from siridb.connector.lib.exceptions import AuthenticationError, InsertError, QueryError

from scripts.siridb_dev.testing import DevServer

HOUR_MS = 3_600_000


@pytest.fixture(scope='module')
def server() -> Iterator[DevServer]:
    with DevServer(dbname='dbtest') as srv:
        yield srv


async def _with_client(srv: DevServer, work: Any, password: str = 'siri') -> Any:
    client = SiriDBClient('iris', password, 'dbtest', [(srv.host, srv.port)], timeout=5)
    try:
        await client.connect()
        return await work(client)
    finally:
        client.close()


def run(srv: DevServer, work: Any, password: str = 'siri') -> Any:
    return asyncio.run(asyncio.wait_for(_with_client(srv, work, password), 30))


def test_insert_and_query_shapes(server: DevServer) -> None:
    async def work(c: SiriDBClient) -> dict[str, Any]:
        out = {'insert': await c.insert({
            'cx.int': [[1000, 1], [2000, 2.5], [3000, 3], [4000, 4]],
            'cx.hourly': [[i * HOUR_MS // 4, i] for i in range(1, 9)],
            'cx.str': [[1000, 'a']]})}
        for key, q in {
            'all': "select * from 'cx.int'",
            'after': "select * from 'cx.int' after 2000",
            'before': "select * from 'cx.int' before 2000",
            'between': "select * from 'cx.int' between 2000 and 4000",
            'tail': "select * from 'cx.int' tail 2",
            'head': "select * from 'cx.int' head 1",
            'count': "select count() from 'cx.int'",
            'last': "select last() from 'cx.int'",
            'mean': "select mean(1h) from 'cx.hourly'",
            'regex': 'select count() from /cx[.](int|str)/',
            'missing': "select * from 'cx.nope'",
            'list': "list series name, length, type where name ~ 'cx.'",
            'count_series': "count series where name ~ 'cx.'",
            'precision': 'show time_precision',
        }.items():
            out[key] = await c.query(q)
        return out

    r = run(server, work)
    assert r['insert'] == {'success_msg': 'Successfully inserted 13 point(s).'}
    assert r['all'] == {'cx.int': [[1000, 1], [2000, 2], [3000, 3], [4000, 4]]}
    assert r['after'] == {'cx.int': [[2000, 2], [3000, 3], [4000, 4]]}
    assert r['before'] == {'cx.int': [[1000, 1]]}
    assert r['between'] == {'cx.int': [[2000, 2], [3000, 3]]}
    assert r['tail'] == {'cx.int': [[3000, 3], [4000, 4]]}
    assert r['head'] == {'cx.int': [[1000, 1]]}
    assert r['count'] == {'cx.int': [[4000, 4]]}
    assert r['last'] == {'cx.int': [[4000, 4]]}
    assert r['mean'] == {'cx.hourly': [[HOUR_MS, 2.5], [2 * HOUR_MS, 6.5]]}
    assert r['regex'] == {'cx.int': [[4000, 4]], 'cx.str': [[1000, 1]]}
    assert r['missing'] == {}
    assert r['list'] == {'columns': ['name', 'length', 'type'], 'series': [
        ['cx.int', 4, 'integer'], ['cx.hourly', 8, 'integer'], ['cx.str', 1, 'string']]}
    assert r['count_series'] == {'series': 3}
    assert r['precision'] == {'data': [{'name': 'time_precision', 'value': 'ms'}]}


def test_drop_series(server: DevServer) -> None:
    async def work(c: SiriDBClient) -> list[Any]:
        await c.insert({'drop.me': [[1, 1]]})
        return [await c.query("drop series 'drop.me'"), await c.query("select * from 'drop.me'")]

    dropped, after = run(server, work)
    assert dropped == {'success_msg': 'Successfully dropped 1 series.'}
    assert after == {}


def test_errors(server: DevServer) -> None:
    async def work(c: SiriDBClient) -> list[str]:
        messages = []
        for call in (c.query('select * frm x'), c.query("select * from 'a' between 5 and 1"),
                     c.query("select mean(1h) from 'cx.str'"),
                     c.insert({'bad': [[1.5, 1]]}), c.insert({'bad': []})):
            try:
                await call
            except (QueryError, InsertError) as exc:
                messages.append(f'{type(exc).__name__}: {exc}')
        return messages

    assert run(server, work) == [
        'QueryError: Query error at position 9. Expecting =>, prefix, suffix, , or from',
        'QueryError: Start time (5) should not be greater than end time (1)',
        'QueryError: Cannot use mean() on string type.',
        'InsertError: Expecting an integer value as time-stamp.',
        'InsertError: Expecting a series to have at least one point.',
    ]


def test_bad_password_is_refused(server: DevServer) -> None:
    async def connect_only() -> list[Any]:
        client = SiriDBClient('iris', 'wrong', 'dbtest', [(server.host, server.port)], timeout=5)
        try:
            return await client.connect()
        finally:
            client.close()

    result = asyncio.run(asyncio.wait_for(connect_only(), 30))
    assert isinstance(result[0], AuthenticationError)


def test_sqlite_storage_survives_restart(tmp_path: Path) -> None:
    with DevServer(dbname='dbtest', storage=str(tmp_path / 'siridb.sqlite')) as srv:
        async def write(c: SiriDBClient) -> None:
            await c.insert({'keep.int': [[2000, 2], [1000, 1], [1000, 11]],
                            'keep.str': [[1000, 'x']]})
            await c.query('alter database set select_points_limit 500')

        async def read(c: SiriDBClient) -> list[Any]:
            await c.insert({'keep.int': [[3000, 'hello']]})
            return [await c.query("select * from 'keep.int', 'keep.str'"),
                    await c.query('show select_points_limit')]

        run(srv, write)
        srv.restart()
        points, limit = run(srv, read)
    assert points == {'keep.int': [[1000, 1], [1000, 11], [2000, 2], [3000, 0]],
                      'keep.str': [[1000, 'x']]}
    assert limit == {'data': [{'name': 'select_points_limit', 'value': 500}]}


def _read_package(conn: socket.socket) -> bytes:
    header = _read_exactly(conn, 8)
    return header + _read_exactly(conn, struct.unpack('<IHBB', header)[0])


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError('tee connection closed')
        data += chunk
    return data


def test_initial_tee_connects_lazily_and_forwards() -> None:
    with socket.create_server(('127.0.0.1', 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]
        with DevServer(dbname='dbtest', tee=f'127.0.0.1:{port}') as srv:
            async def first(c: SiriDBClient) -> None:
                await c.insert({'tee.x': [[1, 1]]})

            async def second(c: SiriDBClient) -> Any:
                await c.insert({'tee.x': [[2, 2.5]]})
                return await c.query("select * from 'tee.x'")

            run(srv, first)
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                stored = run(srv, second)
                package = _read_package(conn)
    assert package[:8] == struct.pack('<IHBB', len(package) - 8, 0, 0, 0)
    assert qpack.unpackb(package[8:]) == {b'tee.x\x00': [[2, 2.5]]}
    assert stored == {'tee.x': [[1, 1], [2, 2]]}
