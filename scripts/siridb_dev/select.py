"""The select statement: series, time range, aggregates, points limit, reply body."""

from __future__ import annotations

import bisect
from typing import Any

from . import statements as st
from .aggregate import apply_chain
from .matching import select_series
from .storage import Database, Series
from .timeexpr import ExprError, evaluate, evaluate_time, ts_converter
from .wire import pack_points, pack_reply_map

LIMIT_MESSAGE = (
    'Query has reached the maximum number of selected points ({}). Please use another time '
    'window, an aggregation function or select less series to reduce the number of points.')

#: head N / tail N accept 1 <= N <= this.
MAX_HEAD_TAIL = 1_000_000


class SelectError(Exception):
    """A select SiriDB refuses; the message is the query error."""


def _window(series: Series, rng: st.TimeRange | None, bounds: tuple[Any, Any]) -> slice:
    if rng is None:
        return slice(None)
    start, end = bounds
    if rng.kind == 'head':
        return slice(0, start)
    if rng.kind == 'tail':
        return slice(max(len(series) - start, 0), None)
    lo = 0 if start is None else bisect.bisect_left(series.ts, start)
    hi = len(series) if end is None else bisect.bisect_left(series.ts, end)
    return slice(lo, max(lo, hi))


def _bounds(db: Database, rng: st.TimeRange | None, now: float) -> tuple[Any, Any]:
    if rng is None:
        return None, None
    precision = db.time_precision
    if rng.kind in ('head', 'tail'):
        count = evaluate(rng.start or [], precision, now)
        if not 1 <= count <= MAX_HEAD_TAIL:
            # Whatever select_points_limit is.
            raise SelectError(f'{rng.kind.capitalize()} must be a value between 1 and '
                              f'{MAX_HEAD_TAIL}, got {count}')
        return count, None
    start = None if rng.start is None else evaluate_time(rng.start, precision, now)
    end = None if rng.end is None else evaluate_time(rng.end, precision, now)
    if start is not None and end is not None and start > end:
        raise SelectError(f'Start time ({start}) should not be greater than end time ({end})')
    return start, end


def _asks_every_pool(match: st.SeriesMatch) -> bool:
    """Whether SiriDB sends the select to every pool: the selection is not by names only."""
    return any(_asks_every_pool(item.value) if item.kind == 'match'
               else item.kind in ('all', 'regex', 'group') for item in match.items)


def run_select(db: Database, stmt: st.Select, now: float, wanted_precision: Any) -> bytes:
    """Evaluate a select and return the reply body (series sorted by name)."""
    if stmt.merge is not None:
        raise SelectError('merge is not supported by the development server.')
    try:
        bounds = _bounds(db, stmt.range, now)
    except ExprError as exc:
        raise SelectError(str(exc)) from None
    convert = ts_converter(db.time_precision, wanted_precision)
    results: dict[bytes, bytes] = {}
    selected = 0
    series_list = select_series(db, stmt.match, stmt.where, now)
    windows = [_window(series, stmt.range, bounds) for series in series_list]
    # SiriDB runs each aggregate over every series in creation order and checks the limit
    # before each series (points so far > limit, counted after aggregation): the points
    # of the last series processed are never checked.
    for agg in stmt.aggregates:
        for series, window in zip(series_list, windows, strict=True):
            if selected > db.select_points_limit:
                raise SelectError(LIMIT_MESSAGE.format(db.select_points_limit))
            out_ts, out_values = apply_chain(
                agg.functions, series.ts[window], series.values[window], series.tp,
                series.batches[window], db.time_precision, now)
            selected += len(out_ts)
            if convert is not None:
                out_ts = [convert(t) for t in out_ts]
            name = agg.prefix + series.name + agg.suffix
            if name in results:
                raise SelectError(
                    f"Duplicate series name: '{name.decode('utf-8', 'replace')}'. Use a prefix "
                    'and/or suffix to make the names of the selected series unique.')
            results[name] = pack_points(list(zip(out_ts, out_values, strict=True)))
    if _asks_every_pool(stmt.match) and selected > db.select_points_limit:
        # A selection by regex, '*' or group goes to every pool (here: the only one), and
        # SiriDB checks the total of the pools' answers once more: then even the last
        # series counts, and one series over the limit is refused.
        raise SelectError(LIMIT_MESSAGE.format(db.select_points_limit))
    return pack_reply_map((name, results[name]) for name in sorted(results))
