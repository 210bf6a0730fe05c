"""Aggregate and filter functions of select, with SiriDB's result shapes and types."""

from __future__ import annotations

import math
import operator
import re
import statistics
from collections.abc import Callable
from typing import Any

from .coerce import TYPE_FLOAT, TYPE_INTEGER, TYPE_STRING
from .statements import Function
from .timeexpr import evaluate


class AggregateError(Exception):
    """A function SiriDB refuses for these points; the message is the query error."""


def _variance(values: list[Any]) -> float:
    return statistics.variance(values) if len(values) > 1 else 0.0


# name -> (reduce values, result type from series type, works on strings)
_REDUCERS: dict[str, tuple[Callable[[list[Any]], Any], Callable[[str], str], bool]] = {
    'count': (len, lambda tp: TYPE_INTEGER, True),
    'mean': (lambda v: sum(v) / len(v), lambda tp: TYPE_FLOAT, False),
    'sum': (sum, lambda tp: tp, False),
    'min': (min, lambda tp: tp, False),
    'max': (max, lambda tp: tp, False),
    'median': (lambda v: float(statistics.median(v)), lambda tp: TYPE_FLOAT, False),
    'median_low': (statistics.median_low, lambda tp: tp, False),
    'median_high': (statistics.median_high, lambda tp: tp, False),
    'variance': (_variance, lambda tp: TYPE_FLOAT, False),
    'pvariance': (lambda v: float(statistics.pvariance(v)), lambda tp: TYPE_FLOAT, False),
    'stddev': (lambda v: math.sqrt(_variance(v)), lambda tp: TYPE_FLOAT, False),
    'first': (lambda v: v[0], lambda tp: tp, True),
    'last': (lambda v: v[-1], lambda tp: tp, True),
}

_FILTER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    '==': operator.eq, '!=': operator.ne, '<': operator.lt, '>': operator.gt,
    '<=': operator.le, '>=': operator.ge,
}


def _buckets(ts: list[int], interval: int) -> list[tuple[int, int, int]]:
    """(key, start, end) runs where key = ceil(ts / interval) * interval."""
    runs: list[tuple[int, int, int]] = []
    for i, t in enumerate(ts):
        key = -(-t // interval) * interval
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1], i + 1)
        else:
            runs.append((key, i, i + 1))
    return runs


def _string_quirk(name: str, values: list[Any], batches: list[int]) -> Any:
    """first()/last() of SiriDB 2.0.55 on a string series give the wrong value.

    Observed: on points written by one insert, first() returns the value of the last
    point and last() that of the first; with one point per insert the value is right.
    Modelled as: the value at the other end of the run of points from the same insert.
    """
    if name == 'first':
        batch = batches[0]
        return values[max(i for i, b in enumerate(batches) if b == batch)]
    batch = batches[-1]
    return values[min(i for i, b in enumerate(batches) if b == batch)]


def _filter_test(op: str, arg: Any) -> Callable[[Any], bool]:
    """The predicate of filter(op value); strings only match string values."""
    if isinstance(arg, tuple):
        text = arg[1]
        rx = re.compile(text[1:text.rindex('/')].encode('latin-1'),
                        re.IGNORECASE if text.endswith('i') else 0)
        want = op != '!='

        def matches(v: Any) -> bool:
            return isinstance(v, bytes) and bool(rx.search(v)) == want
        return matches
    arg = {'nan': math.nan, 'inf': math.inf, '-inf': -math.inf}.get(arg, arg)
    if op in ('~', '!~'):
        contains = op == '~'

        def substring(v: Any) -> bool:
            return isinstance(v, bytes) and isinstance(arg, bytes) and (arg in v) == contains
        return substring
    compare = _FILTER_OPS[op]

    def compares(v: Any) -> bool:
        return isinstance(v, bytes) == isinstance(arg, bytes) and compare(v, arg)
    return compares


def _filter(fn: Function, ts: list[int], values: list[Any]) -> tuple[list[int], list[Any]]:
    test = _filter_test(*fn.args)
    keep = [i for i, v in enumerate(values) if test(v)]
    return [ts[i] for i in keep], [values[i] for i in keep]


def apply_function(fn: Function, ts: list[int], values: list[Any], tp: str,
                   batches: list[int] | None, precision: str,
                   now: float) -> tuple[list[int], list[Any], str]:
    """Apply one function to sorted points; returns (timestamps, values, type)."""
    if fn.name == '*':
        return ts, values, tp
    if fn.name == 'filter':
        return (*_filter(fn, ts, values), tp)
    if fn.name in ('limit', 'derivative'):
        raise AggregateError(f'{fn.name}() is not supported by the development server.')
    if fn.name == 'difference':
        if tp == TYPE_STRING:
            raise AggregateError('Cannot use difference() on string type.')
        if fn.interval is None:
            return ts[1:], [b - a for a, b in zip(values, values[1:], strict=False)], tp
        runs = _buckets(ts, _interval(fn, precision, now))
        return [k for k, _, _ in runs], [values[e - 1] - values[s] for _, s, e in runs], tp
    reduce, result_type, on_strings = _REDUCERS[fn.name]
    if tp == TYPE_STRING and not on_strings:
        raise AggregateError(f'Cannot use {fn.name}() on string type.')
    if not ts:
        return [], [], result_type(tp)
    if fn.interval is None:
        if fn.name in ('first', 'last') and tp == TYPE_STRING and batches is not None:
            value = _string_quirk(fn.name, values, batches)
        else:
            value = reduce(values)
        return [ts[0] if fn.name == 'first' else ts[-1]], [value], result_type(tp)
    runs = _buckets(ts, _interval(fn, precision, now))
    return [k for k, _, _ in runs], [reduce(values[s:e]) for _, s, e in runs], result_type(tp)


def _interval(fn: Function, precision: str, now: float) -> int:
    interval = evaluate(fn.interval or [], precision, now)
    if interval <= 0:
        raise AggregateError('Group by time must be an integer value larger than zero.')
    return interval


def apply_chain(functions: list[Function], ts: list[int], values: list[Any], tp: str,
                batches: list[int], precision: str,
                now: float) -> tuple[list[int], list[Any]]:
    """Apply functions joined by '=>' left to right."""
    for i, fn in enumerate(functions):
        ts, values, tp = apply_function(fn, ts, values, tp, batches if i == 0 else None,
                                        precision, now)
    return ts, values
