"""What SiriDB refuses, the development server refuses: same reply type, same message.

Each case runs in a database of its own (created with a SERVICE request) on one server
process, over a raw socket, so that the reply type is checked and not only the message.
"""

from __future__ import annotations

import itertools
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
import qpack

from scripts.siridb_dev.testing import DevServer

HEADER = struct.Struct('<IHBB')
QUERY, INSERT, AUTH, SERVICE = 0, 1, 2, 32
RES_QUERY, ERR_QUERY = 0, 65
_databases = itertools.count()


class RawClient:
    """One logged-in connection speaking SiriDB's protocol with blocking reads."""

    def __init__(self, server: DevServer, dbname: str) -> None:
        self.sock = socket.create_connection((server.host, server.port), timeout=10)
        self.pid = 0
        tp, _ = self.request(AUTH, [b'iris', b'siri', dbname.encode()])
        assert tp == 2, f'AUTH answered {tp}'

    def close(self) -> None:
        self.sock.close()

    def request(self, tp: int, payload: Any = None, body: bytes | None = None) -> tuple[int, Any]:
        """Send one package; return (reply type, decoded body or None)."""
        self.pid = (self.pid + 1) % 65536
        data = qpack.packb(payload) if body is None else body
        self.sock.sendall(HEADER.pack(len(data), self.pid, tp, tp ^ 0xFF) + data)
        length, pid, reply_tp, _ = HEADER.unpack(self._read(HEADER.size))
        assert pid == self.pid
        reply = self._read(length)
        return reply_tp, (qpack.unpackb(reply, decode='utf-8') if reply else None)

    def query(self, text: str | bytes) -> tuple[int, Any]:
        raw = text.encode() if isinstance(text, str) else text
        return self.request(QUERY, [raw, None])

    def ok(self, text: str) -> Any:
        tp, reply = self.query(text)
        assert tp == RES_QUERY, reply
        return reply

    def insert(self, data: dict[str, list[list[Any]]]) -> None:
        tp, reply = self.request(INSERT, data)
        assert tp == 1, reply

    def _read(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = self.sock.recv(size)
            if not chunk:
                raise ConnectionError('server closed the connection')
            chunks.append(chunk)
            size -= len(chunk)
        return b''.join(chunks)


@pytest.fixture(scope='module')
def server() -> Iterator[DevServer]:
    with DevServer(dbname=None) as srv:
        yield srv


@pytest.fixture
def db(server: DevServer) -> Iterator[RawClient]:
    """A logged-in client on a new, empty database."""
    name = f'refusals{next(_databases)}'
    service = socket.create_connection((server.host, server.port), timeout=10)
    body = qpack.packb([b'sa', b'siri', 3, {'dbname': name, 'time_precision': 'ms'}])
    service.sendall(HEADER.pack(len(body), 1, SERVICE, SERVICE ^ 0xFF) + body)
    assert HEADER.unpack(service.recv(HEADER.size))[2] == 32
    service.close()
    client = RawClient(server, name)
    yield client
    client.close()


def refused(reply: tuple[int, Any]) -> str:
    """The error message of an ERR_QUERY reply."""
    tp, body = reply
    assert tp == ERR_QUERY, (tp, body)
    return body['error_msg']


# -- drop threshold --

def test_dropping_the_last_series_is_refused_at_the_default_threshold(db: RawClient) -> None:
    db.insert({'only': [[1, 1]]})
    assert refused(db.query("drop series 'only'")) == (
        "This query would drop 100.00% of the series in pool 0. Add 'set ignore_threshold "
        "true' to the query statement if you really want to do this.")
    assert db.ok("select * from 'only'") == {'only': [[1, 1]]}


def test_drop_threshold_is_compared_with_greater_or_equal(db: RawClient) -> None:
    db.insert({'a': [[1, 1]], 'b': [[1, 1]]})
    db.ok('alter database set drop_threshold 0.5')
    assert refused(db.query("drop series 'a'")).startswith(
        'This query would drop 50.00% of the series in pool 0.')
    assert db.ok('count series') == {'series': 2}


def test_drop_percentage_has_two_decimals(db: RawClient) -> None:
    db.insert({f's{i}': [[1, 1]] for i in range(3)})
    db.ok('alter database set drop_threshold 0.3')
    assert refused(db.query("drop series 's0'")).startswith(
        'This query would drop 33.33% of the series in pool 0.')


def test_ignore_threshold_drops_the_last_series(db: RawClient) -> None:
    db.insert({'only': [[1, 1]]})
    assert db.ok("drop series 'only' set ignore_threshold true") == {
        'success_msg': 'Successfully dropped 1 series.'}
    assert db.ok('count series') == {'series': 0}


def test_drop_without_a_selection_means_every_series(db: RawClient) -> None:
    db.insert({'a': [[1, 1]], 'b': [[1, 1]]})
    assert refused(db.query('drop series')).startswith(
        'This query would drop 100.00% of the series in pool 0.')
    assert db.ok('drop series set ignore_threshold true') == {
        'success_msg': 'Successfully dropped 2 series.'}


def test_dropping_nothing_is_never_refused(db: RawClient) -> None:
    db.ok('alter database set drop_threshold 0')
    assert db.ok("drop series 'missing'") == {'success_msg': 'Successfully dropped 0 series.'}


# -- head / tail --

@pytest.mark.parametrize('kind', ['head', 'tail'])
@pytest.mark.parametrize('count', [0, 1_000_001, 1_100_000])
def test_head_and_tail_outside_1_to_1000000_are_refused(db: RawClient, kind: str,
                                                        count: int) -> None:
    db.insert({'x': [[1, 1]]})
    db.ok('alter database set select_points_limit 4000000')
    assert refused(db.query(f"select * from 'x' {kind} {count}")) == (
        f'{kind.capitalize()} must be a value between 1 and 1000000, got {count}')


@pytest.mark.parametrize('kind', ['head', 'tail'])
def test_head_and_tail_of_1000000_are_accepted(db: RawClient, kind: str) -> None:
    db.insert({'x': [[1, 1]]})
    assert db.ok(f"select * from 'x' {kind} 1000000") == {'x': [[1, 1]]}


# -- query length and NUL bytes --

def test_a_query_package_over_65535_bytes_is_too_long(db: RawClient) -> None:
    name = 'n' * 65_520
    query = f"select * from '{name}'"
    assert len(qpack.packb([query.encode(), None])) > 65535
    assert db.query(query) == (ERR_QUERY, {'error_msg': 'Query too long.'})


def test_a_query_package_of_65535_bytes_is_accepted(db: RawClient) -> None:
    name = 'n' * (65535 - 5 - len("select * from ''"))
    query = f"select * from '{name}'"
    assert len(qpack.packb([query.encode(), None])) == 65535
    assert db.ok(query) == {}


def test_a_query_ends_at_its_first_nul_byte(db: RawClient) -> None:
    db.insert({'a\x00b': [[1, 1]], 'a': [[2, 2]]})
    # The query is cut after "'a": an unterminated string, so a syntax error.
    assert refused(db.query(b"select * from 'a\x00b'")).startswith(
        'Query error at position 14.')
    assert db.ok(b"select * from 'a'\x00 garbage") == {'a': [[2, 2]]}


# -- select_points_limit --

def test_points_limit_counts_several_named_series(db: RawClient) -> None:
    db.insert({'big': [[t, t] for t in range(10)], 'small': [[1, 1]]})
    db.ok('alter database set select_points_limit 5')
    assert refused(db.query("select * from 'small', 'big'")).startswith(
        'Query has reached the maximum number of selected points (5).')


def test_points_limit_counts_a_regex_selection(db: RawClient) -> None:
    db.insert({'r.a': [[t, t] for t in range(4)], 'r.b': [[t, t] for t in range(4)],
               'r.c': [[1, 1]]})
    db.ok('alter database set select_points_limit 5')
    assert refused(db.query('select * from /r\\..*/')).startswith(
        'Query has reached the maximum number of selected points (5).')


def test_points_limit_refuses_one_series_selected_by_regex(db: RawClient) -> None:
    # By name, one series of any length passes (recorded: select_over_limit); by regex
    # SiriDB asks every pool and checks the total once more.
    db.insert({'one': [[t, t] for t in range(10)]})
    db.ok('alter database set select_points_limit 5')
    assert len(db.ok("select * from 'one'")['one']) == 10
    for query in ('select * from /one/', 'select * from *', "select * from ('one' | /x/)"):
        assert refused(db.query(query)).startswith(
            'Query has reached the maximum number of selected points (5).'), query


def test_points_limit_counts_every_aggregate_of_a_select(db: RawClient) -> None:
    # SiriDB runs the aggregates one after another over the series: the second pass
    # starts with the points of the first counted.
    db.insert({'one': [[t, t] for t in range(10)]})
    db.ok('alter database set select_points_limit 5')
    assert refused(db.query("select *, count() prefix 'c.' from 'one'")).startswith(
        'Query has reached the maximum number of selected points (5).')


# -- settings SiriDB refuses --

@pytest.mark.parametrize('value', [0, 4294967296])
def test_select_points_limit_out_of_range_is_refused(db: RawClient, value: int) -> None:
    assert refused(db.query(f'alter database set select_points_limit {value}')) == (
        'Select points limit should be a value greater than 0 and smaller than 4294967296 '
        f'but got {value}')
    assert db.ok('show select_points_limit')['data'][0]['value'] == 1_000_000


@pytest.mark.parametrize('value', [0, 999, 4294967296])
def test_list_limit_out_of_range_is_refused(db: RawClient, value: int) -> None:
    assert refused(db.query(f'alter database set list_limit {value}')) == (
        'List limit should be a value greater than or equal to 1000 and smaller than '
        f'4294967296 but got {value}')
    assert db.ok('show list_limit')['data'][0]['value'] == 10_000


def test_list_limit_of_1000_is_accepted(db: RawClient) -> None:
    assert db.ok('alter database set list_limit 1000') == {
        'success_msg': 'Successfully changed list limit from 10000 to 1000.'}


def test_drop_threshold_above_one_is_refused(db: RawClient) -> None:
    assert refused(db.query('alter database set drop_threshold 1.5')) == (
        'Drop threshold should be a value between or equal to 0 and 1.0 but got 1.500')


# -- features the development server does not implement --

@pytest.mark.parametrize('query, position', [
    ('list users', 5),
    ('count shards', 6),
    ("create user 'u' set password 'p'", 0),
    ("drop user 'u'", 5),
    ("grant write to user 'u'", 0),
    ('help select', 0),
    ("select * from 'x' merge as 'm'", 18),
])
def test_unimplemented_features_answer_a_syntax_error(db: RawClient, query: str,
                                                      position: int) -> None:
    assert refused(db.query(query)).startswith(f'Query error at position {position}.')
