"""Value conversion into a series' fixed type, as SiriDB converts (C library rules)."""

from __future__ import annotations

import re
from typing import Any

INT64_MIN = -2 ** 63
INT64_MAX = 2 ** 63 - 1

TYPE_INTEGER = 'integer'
TYPE_FLOAT = 'float'
TYPE_STRING = 'string'

# strtoll/strtod accept leading white space and stop at the first unusable character.
_C_INT = re.compile(rb'\s*([+-]?\d+)')
_C_FLOAT = re.compile(
    rb'\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))',
    re.IGNORECASE)


def type_of(value: Any) -> str:
    """Return the series type a first point with this value creates."""
    if isinstance(value, bytes):
        return TYPE_STRING
    if isinstance(value, float):
        return TYPE_FLOAT
    return TYPE_INTEGER


def _clamp(n: int) -> int:
    return max(INT64_MIN, min(INT64_MAX, n))


def c_strtoll(raw: bytes) -> int:
    """Parse like strtoll(raw, NULL, 10): the leading integer, 0 when there is none."""
    match = _C_INT.match(raw)
    return _clamp(int(match.group(1))) if match else 0


def c_strtod(raw: bytes) -> float:
    """Parse like strtod(raw, NULL): the leading number, 0.0 when there is none."""
    match = _C_FLOAT.match(raw)
    return float(match.group(1)) if match else 0.0


def to_integer(value: Any) -> int:
    """Convert an insert value for an integer series (floats truncate toward zero)."""
    if isinstance(value, bytes):
        return c_strtoll(value)
    if isinstance(value, float):
        if value != value:
            return 0
        if value in (float('inf'), float('-inf')):
            return INT64_MAX if value > 0 else INT64_MIN
        return _clamp(int(value))
    return value


def to_float(value: Any) -> float:
    """Convert an insert value for a float series."""
    if isinstance(value, bytes):
        return c_strtod(value)
    return float(value)


def to_string(value: Any) -> bytes:
    """Convert an insert value for a string series (floats as printf %f)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):
        return (b'%f' % value)
    return str(value).encode()


CONVERTERS = {TYPE_INTEGER: to_integer, TYPE_FLOAT: to_float, TYPE_STRING: to_string}


def coerce_all(tp: str, values: list[Any]) -> list[Any]:
    """Convert a list of insert values into series type `tp`."""
    convert = CONVERTERS[tp]
    if tp == TYPE_INTEGER and all(type(v) is int for v in values):
        return values
    if tp == TYPE_FLOAT and all(type(v) is float for v in values):
        return values
    return [convert(v) for v in values]
