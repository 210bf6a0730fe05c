"""Time and integer expressions of queries, evaluated in the database's precision."""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

from .statements import Expr

FACTORS = {'s': 1, 'ms': 1000, 'us': 1_000_000, 'ns': 1_000_000_000}
PRECISION_BY_NUMBER = ('s', 'ms', 'us', 'ns')
UNIT_SECONDS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
INT64_MAX = 2 ** 63 - 1


class ExprError(Exception):
    """An expression that cannot be evaluated; the message is the query error."""


def _c_div(a: int, b: int) -> int:
    if b == 0:
        raise ExprError('Division by zero error.')
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _c_mod(a: int, b: int) -> int:
    return a - _c_div(a, b) * b


_APPLY = {
    '+': lambda a, b: a + b,
    '-': lambda a, b: a - b,
    '*': lambda a, b: a * b,
    '/': _c_div,
    '%': _c_mod,
}


def parse_date(text: bytes, precision: str) -> int:
    """Turn a date string (UTC unless it names an offset) into a timestamp."""
    try:
        raw = text.decode().strip()
        when = dt.datetime.fromisoformat(raw.replace('Z', '+00:00'))
    except ValueError:
        raise ExprError(f"Cannot parse date string: '{text.decode(errors='replace')}'") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * FACTORS[precision] // 1_000_000


def now_ts(precision: str, now: float) -> int:
    """The current time (`now` in seconds since the epoch) in `precision` units."""
    return int(now * FACTORS[precision])


def _operand(item: Any, precision: str, now: float) -> int:
    if isinstance(item, list):
        return evaluate(item, precision, now)
    kind = item[0]
    if kind == 'int':
        return item[1]
    if kind == 'dur':
        return item[1] * UNIT_SECONDS[item[2]] * FACTORS[precision]
    if kind == 'now':
        return now_ts(precision, now)
    return parse_date(item[1], precision)


def evaluate(expr: Expr, precision: str = 'ms', now: float = 0.0) -> int:
    """Evaluate [operand, op, operand, ...] with C integer arithmetic and precedence."""
    values = [_operand(expr[0], precision, now)]
    ops: list[str] = []
    for op, item in zip(expr[1::2], expr[2::2], strict=True):
        value = _operand(item, precision, now)
        if op in '*/%':
            values[-1] = _APPLY[op](values[-1], value)
        else:
            ops.append(op)
            values.append(value)
    result = values[0]
    for op, value in zip(ops, values[1:], strict=True):
        result = _APPLY[op](result, value)
    return result


def evaluate_time(expr: Expr, precision: str, now: float) -> int:
    """Evaluate a time expression and check that the timestamp is valid."""
    ts = evaluate(expr, precision, now)
    limit = 2 ** 32 if precision == 's' else INT64_MAX + 1
    if not 0 <= ts < limit:
        raise ExprError('Time expression out-of-range.')
    return ts


def ts_converter(db_precision: str, wanted: Any) -> Any:
    """Return a function converting result timestamps to the precision asked for.

    SiriDB multiplies by a float32 factor in double arithmetic, so converting to a
    coarser unit is inaccurate (1700000000000 ms -> 1700000080 s); this is reproduced.
    """
    if type(wanted) is not int or not 0 <= wanted < len(PRECISION_BY_NUMBER):
        return None
    target = PRECISION_BY_NUMBER[wanted]
    if target == db_precision:
        return None
    ratio = FACTORS[target] / FACTORS[db_precision]
    factor = struct.unpack('<f', struct.pack('<f', ratio))[0]
    return lambda ts: int(ts * factor)
