"""`list series` with a regex, a name range and a limit, as the hub's pattern listing sends it.

SIRIDB.md: rows in creation order, `/re/` is a full match (`^re$`, no group; `/re/i` any
case), `limit N` after the where clause, list_limit (default 10000) caps a listing. The
hub pages by name ranges (actors/hub/pattern_listing.py): a sweep over the development
server must find exactly the names SiriDB would select, whatever the limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from siridb.connector import SiriDBClient
from siridb.connector.lib.exceptions import QueryError

from actors.common.siridb_queries import list_limit_query, list_series_query
from actors.hub.pattern_listing import Sweep
from scripts.siridb_dev.testing import DevServer

NAMES = [f"pg.{i:03d}" for i in reversed(range(250))] + [
    "PG.upper", "pg", "pgx.1", "mem.pg", "pg.ü/it's", "pg.a.b"]


@pytest.fixture(scope='module')
def server() -> Iterator[DevServer]:
    with DevServer(dbname='dbtest') as srv:
        async def load(c: SiriDBClient) -> None:
            await c.insert({name: [[1000, 1]] for name in NAMES})
        run(srv, load)
        yield srv


def run(srv: DevServer, work: Any) -> Any:
    async def main() -> Any:
        client = SiriDBClient('iris', 'siri', 'dbtest', [(srv.host, srv.port)], timeout=5)
        try:
            await client.connect()
            return await work(client)
        finally:
            client.close()
    return asyncio.run(asyncio.wait_for(main(), 60))


def query(srv: DevServer, text: str) -> Any:
    async def work(c: SiriDBClient) -> Any:
        return await c.query(text)
    return run(srv, work)


def names(srv: DevServer, text: str) -> list[str]:
    return [row[0] for row in query(srv, text)['series']]


def test_regex_is_a_full_match_in_creation_order(server: DevServer) -> None:
    assert names(server, list_series_query('/pg\\..*/', 10000)) == [
        n for n in NAMES if n.startswith('pg.')]
    assert names(server, list_series_query('/pg/', 10000)) == ['pg']
    assert names(server, list_series_query('/pg.*/i', 3)) == ['pg.249', 'pg.248', 'pg.247']
    assert 'PG.upper' in names(server, list_series_query('/pg.*/i', 10000))


def test_name_range_and_limit(server: DevServer) -> None:
    got = names(server, list_series_query('/pg\\..*/', 10000, 'pg.100', 'pg.103'))
    assert got == ['pg.102', 'pg.101', 'pg.100']  # low included, high excluded
    assert names(server, list_series_query('/pg\\..*/', 10000, low='pg.a')) == [
        'pg.ü/it\'s', 'pg.a.b']
    assert names(server, list_series_query('/pg\\..*/', 2, high='pg.002')) == [
        'pg.001', 'pg.000']


def test_limit_beyond_list_limit_is_refused(server: DevServer) -> None:
    assert query(server, list_limit_query()) == {
        'data': [{'name': 'list_limit', 'value': 10000}]}
    with pytest.raises(QueryError, match='Limit must be a value between 1 and 10000'):
        query(server, list_series_query('/pg.*/', 10001))


@pytest.mark.parametrize('limit', [1, 7, 100, 10000])
def test_a_sweep_finds_every_match_whatever_the_limit(server: DevServer, limit: int) -> None:
    sweep = Sweep(1, '/pg\\..*/', limit)
    while (text := sweep.next_query()) is not None:
        sweep.on_reply(query(server, text))
    assert sweep.done
    assert sweep.found == {n for n in NAMES if n.startswith('pg.')}
    if limit == 100:  # about twice the names over the limit, not one query per name
        assert sweep.queries <= 12
