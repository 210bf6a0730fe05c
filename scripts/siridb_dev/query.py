"""Query execution: parse, dispatch by statement type, build the reply package body."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import qpack

from . import statements as st
from .aggregate import AggregateError
from .framing import Reply
from .grammar import SHOW_NAMES, START
from .matching import MatchError, select_series
from .parsing import error_message, parse_statement
from .select import SelectError, run_select
from .storage import Database
from .tee import Tee, TeeAddressError, parse_tee_address
from .timeexpr import ExprError, evaluate, now_ts
from .wire import pack_error, pack_fixed_map1, pack_nested, pack_reply_map, pack_success

VERSION = '2.0.55'
#: Both limits are stored as 32-bit unsigned integers.
UINT32_END = 2 ** 32
MIN_LIST_LIMIT = 1000


class QueryError(Exception):
    """A query SiriDB answers with ERR_QUERY; the message is its error_msg."""


@dataclass
class QueryContext:
    """What a query may read or change besides its text."""

    db: Database
    user: bytes
    tee: Tee
    server_name: str = 'localhost:9010'
    started: float = field(default_factory=time.time)
    clock: Callable[[], float] = time.time


def execute_query(ctx: QueryContext, raw: bytes, wanted_precision: Any) -> tuple[int, bytes]:
    """Run one query; returns (reply type, body)."""
    # SiriDB copies the query as a C string (strndup): it ends at the first NUL byte.
    # latin-1 keeps one character per byte: error positions are byte offsets and
    # quoted names come back as their exact bytes.
    text = raw.split(b'\0', 1)[0].decode('latin-1')
    value, state, ok = parse_statement(START, text)
    if ok and _unimplemented(value.body):
        # Answer as SiriDB would if it lacked the feature: a syntax error, never a
        # made-up message or a wrong answer.
        value, state, ok = parse_statement(START, text, strict=True)
    if not ok:
        return Reply.ERR_QUERY, pack_error(error_message(state, state.fail_pos))
    now = ctx.clock()
    started = time.perf_counter()
    try:
        body = _HANDLERS[type(value.body)](ctx, value.body, now, wanted_precision)
    except (QueryError, SelectError, AggregateError, MatchError, ExprError) as exc:
        return Reply.ERR_QUERY, pack_error(str(exc))
    if value.timeit and body[:1] == b'\xfd':
        timing = [{'server': ctx.server_name, 'time': time.perf_counter() - started}]
        body += qpack.packb('__timeit__') + pack_nested(timing)
    return Reply.RES_QUERY, body


def _unimplemented(body: Any) -> bool:
    return isinstance(body, st.Unsupported) or (isinstance(body, st.Select)
                                                and body.merge is not None)


def _select(ctx: QueryContext, stmt: st.Select, now: float, wanted: Any) -> bytes:
    return run_select(ctx.db, stmt, now, wanted)


def _calc(ctx: QueryContext, stmt: st.Calc, now: float, wanted: Any) -> bytes:
    precision = ctx.db.time_precision
    value = now_ts(precision, now) if stmt.expr is None else evaluate(stmt.expr, precision, now)
    return pack_fixed_map1('calc', value)


def _list_series(ctx: QueryContext, stmt: st.ListSeries, now: float, wanted: Any) -> bytes:
    db = ctx.db
    limit = db.list_limit
    if stmt.limit is not None:
        limit = evaluate(stmt.limit, db.time_precision, now)
        if not 0 < limit <= db.list_limit:
            raise QueryError(
                f'Limit must be a value between 1 and {db.list_limit} but received: {limit}')
    getters: dict[str, Callable[[Any], Any]] = {
        'name': lambda s: s.name, 'length': len, 'type': lambda s: s.tp,
        'start': lambda s: s.ts[0], 'end': lambda s: s.ts[-1], 'pool': lambda s: 0,
    }
    rows = [[getters[c](s) for c in stmt.columns]
            for s in select_series(db, stmt.match, stmt.where, now)[:limit]]
    return pack_reply_map([('columns', pack_nested(list(stmt.columns))),
                           ('series', pack_nested(rows))])


def _count_series(ctx: QueryContext, stmt: st.CountSeries, now: float, wanted: Any) -> bytes:
    series = select_series(ctx.db, stmt.match, stmt.where, now)
    if stmt.length:
        return pack_reply_map([('series_length', qpack.packb(sum(len(s) for s in series)))])
    return pack_reply_map([('series', qpack.packb(len(series)))])


def _drop_series(ctx: QueryContext, stmt: st.DropSeries, now: float, wanted: Any) -> bytes:
    db = ctx.db
    # Without a selection or a where clause SiriDB drops every series (the threshold,
    # 1.0 by default, is what protects against that).
    names = [s.name for s in select_series(db, stmt.match, stmt.where, now)]
    if names and not stmt.ignore_threshold:
        share = len(names) / len(db.series)
        # SiriDB compares with >=: at the default 1.0 the last series of a database can
        # only be dropped with 'set ignore_threshold true'.
        if share >= db.drop_threshold:
            raise QueryError(
                f'This query would drop {share * 100:.2f}% of the series in pool 0. '
                "Add 'set ignore_threshold true' to the query statement if you really "
                'want to do this.')
    return pack_success(f'Successfully dropped {db.drop_series(names)} series.')


def _show_value(ctx: QueryContext, name: str, now: float) -> Any:
    db = ctx.db
    values: dict[str, Any] = {
        'dbname': db.name, 'time_precision': db.time_precision, 'version': VERSION,
        'who_am_i': ctx.user.decode('latin-1'), 'select_points_limit': db.select_points_limit,
        'list_limit': db.list_limit, 'drop_threshold': db.drop_threshold,
        'timezone': db.timezone, 'tee': ctx.tee.status(), 'server': ctx.server_name,
        'pool': 0, 'status': 'running', 'uptime': int(now - ctx.started),
        'startup_time': int(ctx.started), 'received_points': 0, 'selected_points': 0,
        'reindex_progress': 'not reindexing', 'sync_progress': 'not syncing',
        'log_level': 'info', 'ip_support': 'ALL', 'libuv': '1.44.2',
        'duration_num': '1w', 'duration_log': '1d', 'dbpath': f'/var/lib/siridb/{db.name}/',
        'buffer_path': f'/var/lib/siridb/{db.name}/', 'buffer_size': 8192,
        'uuid': '00000000-0000-4000-8000-000000000000', 'max_open_files': 32768,
        'idle_percentage': 100, 'mem_usage': 0, 'open_files': 0, 'active_handles': 0,
    }
    return values.get(name, 0)


def _show(ctx: QueryContext, stmt: st.Show, now: float, wanted: Any) -> bytes:
    names = stmt.names or list(SHOW_NAMES)
    data = [{'name': n, 'value': _show_value(ctx, n, now)} for n in names]
    return pack_reply_map([('data', pack_nested(data))])


def _alter_database(ctx: QueryContext, stmt: st.AlterDatabase, now: float, wanted: Any) -> bytes:
    db = ctx.db
    if stmt.setting == 'tee':
        return _alter_tee(ctx, stmt.value)
    if stmt.setting == 'select_points_limit':
        limit = _uint64(stmt.value)
        if not 1 <= limit < UINT32_END:
            raise QueryError(
                'Select points limit should be a value greater than 0 and smaller than '
                f'{UINT32_END} but got {limit}')
        old, db.select_points_limit = db.select_points_limit, limit
        message = f'Successfully changed select points limit from {old} to {limit}.'
    elif stmt.setting == 'list_limit':
        limit = _uint64(stmt.value)
        if not MIN_LIST_LIMIT <= limit < UINT32_END:
            raise QueryError(
                f'List limit should be a value greater than or equal to {MIN_LIST_LIMIT} '
                f'and smaller than {UINT32_END} but got {limit}')
        old, db.list_limit = db.list_limit, limit
        message = f'Successfully changed list limit from {old} to {limit}.'
    elif stmt.setting == 'drop_threshold':
        if not 0.0 <= stmt.value <= 1.0:
            raise QueryError('Drop threshold should be a value between or equal to 0 and 1.0 '
                             f'but got {stmt.value:.3f}')
        old, db.drop_threshold = db.drop_threshold, stmt.value
        message = f'Successfully changed drop_threshold from {old:g} to {stmt.value:g}.'
    else:
        zone = stmt.value.decode('latin-1')
        if zone != 'NAIVE' and zone not in zoneinfo.available_timezones():
            raise QueryError(f"Unknown time zone: '{zone}'.")
        old, db.timezone = db.timezone, zone
        message = f"Successfully changed timezone from '{old}' to '{zone}'."
    db.save_settings()
    return pack_success(message)


def _uint64(value: int) -> int:
    # SiriDB reads the digits into a uint64 that silently wraps around.
    return value % 2 ** 64


def _alter_tee(ctx: QueryContext, value: Any) -> bytes:
    if value is False:
        ctx.tee.configure(None)
        ctx.db.tee = None
        ctx.db.save_settings()
        return pack_success('Successfully disabled tee.')
    try:
        host, port = parse_tee_address(value.decode('latin-1'))
    except TeeAddressError:
        raise QueryError('Invalid tee address; expecting ADDRESS[:PORT]') from None
    ctx.tee.configure((host, port))
    ctx.db.tee = f'{host}:{port}' if ':' not in host else f'[{host}]:{port}'
    ctx.db.save_settings()
    return pack_success(f'Successfully configured tee to {host}.')


def _unsupported(ctx: QueryContext, stmt: st.Unsupported, now: float, wanted: Any) -> bytes:
    # Not reached: execute_query answers these with a syntax error (strict parse).
    raise QueryError(f"Query error: '{stmt.what}' cannot be parsed.")


_HANDLERS: dict[type, Callable[[QueryContext, Any, float, Any], bytes]] = {
    st.Select: _select,
    st.Calc: _calc,
    st.ListSeries: _list_series,
    st.CountSeries: _count_series,
    st.DropSeries: _drop_series,
    st.Show: _show,
    st.AlterDatabase: _alter_database,
    st.Unsupported: _unsupported,
}
