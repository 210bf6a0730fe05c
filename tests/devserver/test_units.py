"""Unit tests of the development server's pure parts (no process, no socket)."""

from __future__ import annotations

import pytest

from scripts.siridb_dev import coerce
from scripts.siridb_dev.grammar import START
from scripts.siridb_dev.insert import InsertError, parse_insert
from scripts.siridb_dev.parsing import error_message, parse_statement
from scripts.siridb_dev.tee import TeeAddressError, encode_tee_body, parse_tee_address
from scripts.siridb_dev.timeexpr import evaluate, parse_date, ts_converter
from scripts.siridb_dev.wire import BodyError, decode_body, pack_points


def syntax_error(query: str) -> str:
    _, state, ok = parse_statement(START, query)
    assert not ok
    return error_message(state, state.fail_pos)


@pytest.mark.parametrize('query', [
    "select * from 'a' - /b.*/ & 'c'",
    "select mean(1h) => max(1d) prefix 'p.' suffix '.s', count() from * where type == float",
    "select filter(> 5) from 'a' after now - 1w",
    'list series name, start, end where (length > 1 or name !~ "x") and start >= 0 limit 3',
    'drop series /tmp.*/ set ignore_threshold true',
    'timeit count series length',
    "alter database set timezone 'Europe/Amsterdam'",
    '# only a comment',
])
def test_queries_parse(query: str) -> None:
    _, _, ok = parse_statement(START, query)
    assert ok


def test_syntax_error_positions_are_byte_offsets() -> None:
    # 'ü' is two bytes in UTF-8; the query arrives decoded as latin-1.
    query = "select * from 'ü' frm".encode().decode('latin-1')
    assert syntax_error(query).startswith('Query error at position 19. Expecting')


def test_syntax_error_lists_every_show_name() -> None:
    assert syntax_error('show tee,') == (
        'Query error at position 9. Expecting active_handles, active_tasks, buffer_path, '
        'buffer_size, dbname, dbpath, drop_threshold, duration_log, duration_num, fifo_files, '
        'idle_percentage, idle_time, ip_support, libuv, list_limit, log_level, '
        'max_open_files, mem_usage, open_files, pool, received_points, reindex_progress, '
        'selected_points, select_points_limit, server, startup_time, status, sync_progress, '
        'tee, time_precision, timezone, uptime, uuid, version or who_am_i')


@pytest.mark.parametrize('body, message', [
    ({b'a': [[1, 1], 5]}, 'Expecting a series name'),
    ([{b'points': [[1, 1], [2]], b'name': b'a'}], 'Expecting a map with name and points.'),
    ([{b'name': b'a', b'points': [[1, 1], [2]]}], 'Expecting a series name'),
    ([{b'name': 5, b'points': [[1, 1]]}], 'Expecting a map with name and points.'),
    ([{b'name': b'a', b'points': [[1, 1]], b'x': 1}], 'Expecting a series name'),
    ({b'a' * 65535: [[1, 1]]}, 'Expecting a series name'),
    ({b'a': [[True, 1]]}, 'Expecting an integer value as time-stamp.'),
    ({b'a': [[1, [1]]]}, 'Unsupported value received.'),
])
def test_insert_errors(body: object, message: str) -> None:
    with pytest.raises(InsertError, match=message.replace('.', r'\.')):
        parse_insert(body)


def test_seconds_precision_limits_timestamps() -> None:
    assert parse_insert({b'a': [[2 ** 32 - 1, 1]]}, seconds_precision=True)
    with pytest.raises(InsertError, match='out-of-range'):
        parse_insert({b'a': [[2 ** 32, 1]]}, seconds_precision=True)


def test_coercion_follows_c_conversions() -> None:
    assert coerce.coerce_all('integer', [2.7, -2.7, b'42', b'hello', b' -7x', 3]) == [
        2, -2, 42, 0, -7, 3]
    assert coerce.coerce_all('float', [7, b'3.25', b'abc', b'1e3']) == [7.0, 3.25, 0.0, 1000.0]
    assert coerce.coerce_all('string', [42, 2.5, b'x']) == [b'42', b'2.500000', b'x']


@pytest.mark.parametrize('text, address', [
    ('127.0.0.1', ('127.0.0.1', 9104)),
    ('listener:19104', ('listener', 19104)),
    ('[::1]:9200', ('::1', 9200)),
    ('::1', ('::1', 9104)),
])
def test_tee_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_tee_address(text) == address


@pytest.mark.parametrize('text', ['127.0.0.1:99999', '127.0.0.1:', 'host:port', '', ':9104'])
def test_invalid_tee_addresses(text: str) -> None:
    with pytest.raises(TeeAddressError):
        parse_tee_address(text)


def test_tee_body_keeps_client_values_and_order() -> None:
    body = encode_tee_body(parse_insert({b'r': [[3, 2.5], [1, b's'], [1, 0.0]]}))
    assert body == b'\xfd\x82r\x00\xfc' + pack_points([[3, 2.5], [1, b's'], [1, 0.0]])[1:]


def test_points_are_open_arrays_of_fixed_pairs() -> None:
    assert pack_points([]) == b'\xfc\xfe'
    assert pack_points([[1, 2]]) == b'\xfc\xef\x01\x02\xfe'
    assert pack_points([[0, 1.0]] * 6) == b'\xfc' + b'\xef\x00\x7f' * 6 + b'\xfe'


@pytest.mark.parametrize('raw', [b'', b'\xff\xff', b'\xfe', b'\xf4', b'\xf4\xfe'])
def test_invalid_bodies_raise_instead_of_crashing(raw: bytes) -> None:
    with pytest.raises(BodyError):
        decode_body(raw)


def test_expressions_use_c_integer_arithmetic() -> None:
    assert evaluate([('int', 7), '/', ('int', -2)]) == -3
    assert evaluate([('int', -7), '%', ('int', 2)]) == -1
    assert evaluate([('int', 1), '+', ('int', 2), '*', ('int', 3)]) == 7
    assert evaluate([('int', 10), '-', [[('int', 1), '+', ('dur', 1, 's')]]], 'ms') == -991


def test_dates_are_utc() -> None:
    assert parse_date(b'2023-11-14 22:13:23', 'ms') == 1700000003000
    assert parse_date(b'2023-11-14T23:13:23+01:00', 's') == 1700000003


def test_precision_conversion_uses_a_float32_factor() -> None:
    to_seconds = ts_converter('ms', 0)
    assert to_seconds(1700000000000) == 1700000080
    assert ts_converter('ms', 2)(1700000000000) == 1700000000000000
    assert ts_converter('ms', 1) is None and ts_converter('ms', None) is None
