"""QPack output written the way SiriDB writes it.

`qpack.packb` (C extension 0.0.21) encodes scalars exactly like SiriDB: ints in the
smallest form, 0.0/1.0/-1.0 as single bytes, raw strings with the same widths, and a
point ``[ts, value]`` as the fixed array 0xef.  It differs for containers: it writes
fixed containers (0xed-0xf8) for up to five items and closes open ones, whereas SiriDB
opens every reply map with 0xfd and never closes it, and opens every list with 0xfc
and closes it with 0xfe (even a list of zero or one point).  So this module writes
the containers itself and leaves the scalars and point pairs to `qpack.packb`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import qpack

OPEN_ARRAY = b'\xfc'
OPEN_MAP = b'\xfd'
CLOSE_ARRAY = b'\xfe'
_FIXED_MAP0 = 0xF3

Point = tuple[int, Any]


def pack_points(points: Sequence[Point] | list[list[Any]]) -> bytes:
    """Encode points as an open array of fixed [ts, value] pairs."""
    if len(points) > 5:
        # qpack writes fc ... fe itself for more than five items.
        return qpack.packb(points)
    return b''.join((OPEN_ARRAY, *[qpack.packb(p) for p in points], CLOSE_ARRAY))


def pack_nested(value: Any) -> bytes:
    """Encode a nested reply value: lists open (fc..fe), dicts as fixed maps."""
    if isinstance(value, list):
        return b''.join((OPEN_ARRAY, *[pack_nested(v) for v in value], CLOSE_ARRAY))
    if isinstance(value, tuple):
        return qpack.packb(value)
    if isinstance(value, dict):
        if len(value) > 5:
            raise ValueError('fixed maps hold at most five items')
        parts = [bytes((_FIXED_MAP0 + len(value),))]
        for key, item in value.items():
            parts.append(qpack.packb(key))
            parts.append(pack_nested(item))
        return b''.join(parts)
    return qpack.packb(value)


def pack_reply_map(items: Iterable[tuple[bytes | str, bytes]]) -> bytes:
    """Encode a top-level reply map from (key, already encoded value) pairs."""
    parts = [OPEN_MAP]
    for key, encoded in items:
        parts.append(qpack.packb(key))
        parts.append(encoded)
    return b''.join(parts)


def pack_message(key: str, message: str) -> bytes:
    """Encode ``{key: message}`` as SiriDB does (open map, not closed)."""
    return pack_reply_map([(key, qpack.packb(message))])


def pack_error(message: str) -> bytes:
    """Encode an ``{"error_msg": ...}`` body."""
    return pack_message('error_msg', message)


def pack_success(message: str) -> bytes:
    """Encode a ``{"success_msg": ...}`` body."""
    return pack_message('success_msg', message)


def pack_open_list(values: Iterable[Any]) -> bytes:
    """Encode a top-level service reply list: opened with 0xfc and never closed."""
    return b''.join((OPEN_ARRAY, *[qpack.packb(v) for v in values]))


def pack_fixed_map1(key: str, value: Any) -> bytes:
    """Encode a one-item fixed map (0xf4), the shape of a calc reply."""
    return b'\xf4' + qpack.packb(key) + qpack.packb(value)


class BodyError(ValueError):
    """A package body that is not valid QPack."""



def decode_body(body: bytes) -> Any:
    """Decode a request body, strings as bytes; raises BodyError when it is invalid."""
    if not body:
        raise BodyError('empty body')
    # qpack 0.0.21 (C extension) crashes the process on a leading close marker.
    if body[0] in (0xFE, 0xFF):
        raise BodyError('unexpected close marker')
    try:
        return qpack.unpackb(body)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BodyError(str(exc)) from None
