"""SiriDB tee wire format: frame the insert stream and count points per series.

Each tee package is the 8-byte SiriDB header `<IHBB` (body length, pid, type, check) and a QPack
body `{b"name\\x00": [[ts, value], ...], ...}` whose map is opened with 0xfd and never closed.
A standalone SiriDB sends pid/type/check 0/0/0 and a cluster sends types 134..139, so framing
uses the length alone. See SIRIDB.md, "The tee".
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from typing import Any

import qpack

HEADER = struct.Struct("<IHBB")
HEADER_SIZE = HEADER.size

# SiriDB puts no limit on a tee package (a 1M-point insert is one 19 MB package), but it
# refuses a client request body over 40 MB, and a package carries one insert's points.
DEFAULT_MAX_PACKAGE_SIZE = 64 * 1024 * 1024

_OPEN_MAP = 0xFD
_OPEN_ARRAY = b"\xfc"
_CLOSE_ARRAY = 0xFE  # 0xfe closes an array, 0xff a map
_SEQUENCES = frozenset((list, tuple))  # point lists, as lists or (use_tuples) tuples
_BYTES = frozenset((bytes,))
#: Wanted names x names in a package up to which the wanted ones are found by C-level scans
#: (tuple.count/index) rather than by a Python loop over every name (6% faster per package).
_FEW = 64
_unpackb = qpack.unpackb
# What the qpack C extension raises on malformed input (SystemError: a negative raw length).
_QPACK_ERRORS = (ValueError, TypeError, OverflowError, SystemError, RecursionError, MemoryError)


class TeeProtocolError(Exception):
    """A tee connection sent something that is not a valid tee package."""


class TeeFramer:
    """Split a tee byte stream, fed in arbitrary chunks, into package bodies."""

    def __init__(self, max_package_size: int = DEFAULT_MAX_PACKAGE_SIZE) -> None:
        if max_package_size < 0:
            raise ValueError("max_package_size must be >= 0")
        self.max_package_size = max_package_size
        # Bytes of an unfinished package (rarely more) carried over from earlier chunks.
        self._pending = bytearray()
        self._chunk = b""  # the chunk being cut, from self._pos on
        self._pos = 0
        self._generation = 0
        self._error: TeeProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that have not been returned as part of a package yet."""
        return len(self._pending) + len(self._chunk) - self._pos

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Take a chunk and return an iterator over the package bodies it completes.

        Consume the iterator before the next feed(): an iterator left over from an earlier
        feed() stops (its uncut bytes stay buffered). An over-size header raises
        TeeProtocolError when iteration reaches it, after every complete package before it,
        and every later feed() raises it again: the stream cannot be resynchronised.
        """
        if self._error is not None:
            raise self._error
        self._generation += 1
        if self._pos < len(self._chunk):
            self._pending += memoryview(self._chunk)[self._pos :]
        self._chunk = data if type(data) is bytes else bytes(data)
        self._pos = 0
        return self._cut(self._generation)

    def _check_size(self, length: int) -> None:
        if length > self.max_package_size:
            self._error = TeeProtocolError(
                f"package of {length} bytes exceeds the maximum of {self.max_package_size} bytes"
            )
            raise self._error

    def _cut(self, generation: int) -> Iterator[bytes]:
        chunk = self._chunk
        end = len(chunk)
        pending = self._pending
        # Finish what earlier chunks started, topping up from this chunk.
        while pending and generation == self._generation:
            if len(pending) < HEADER_SIZE:
                self._pos = self._take(HEADER_SIZE - len(pending))
                if len(pending) < HEADER_SIZE:
                    return
            length = HEADER.unpack_from(pending)[0]
            self._check_size(length)
            total = HEADER_SIZE + length
            if len(pending) < total:
                self._pos = self._take(total - len(pending))
                if len(pending) < total:
                    return
            with memoryview(pending) as view:
                body = bytes(view[HEADER_SIZE:total])
            del pending[:total]
            yield body
        # The common case: whole packages straight out of the chunk, one copy each.
        unpack_from = HEADER.unpack_from
        max_size = self.max_package_size
        pos = self._pos
        while generation == self._generation:
            if end - pos < HEADER_SIZE:
                break
            length = unpack_from(chunk, pos)[0]
            if length > max_size:
                self._check_size(length)
            stop = pos + HEADER_SIZE + length
            if stop > end:
                break
            body = chunk[pos + HEADER_SIZE : stop]
            pos = self._pos = stop
            yield body
        else:
            return  # superseded by a newer feed()
        if self._pos < end:
            pending += memoryview(chunk)[self._pos :]
        self._chunk = b""
        self._pos = 0

    def _take(self, count: int) -> int:
        """Move up to `count` bytes from the chunk to the pending buffer; return the new pos."""
        pos = self._pos
        stop = min(pos + count, len(self._chunk))
        self._pending += memoryview(self._chunk)[pos:stop]
        return stop


def _unpack_pairs(body: bytes, decode: str | None = None) -> list[Any]:
    """Decode a tee body into a flat [name, points, name, points, ...] list."""
    if not body:
        raise TeeProtocolError("empty package body")
    if body[0] >= _CLOSE_ARRAY:  # qpack 0.0.21 crashes (SIGSEGV) on a leading close byte
        raise TeeProtocolError(f"bad QPack: package body starts with 0x{body[0]:x}")
    unpackb = _unpackb if decode is None else functools.partial(_unpackb, decode=decode)
    if body[0] == _OPEN_MAP:
        flat = _unpack_open_map(body, unpackb)
        if flat is not None:
            return flat
    try:
        obj = unpackb(body)
    except _QPACK_ERRORS as exc:
        raise TeeProtocolError(f"bad QPack: {exc}") from None
    if not isinstance(obj, dict):
        raise TeeProtocolError(f"package body is {type(obj).__name__}, expected a map")
    return [item for pair in obj.items() for item in pair]


def _unpack_open_map(body: bytes, unpackb: Callable[[bytes], Any]) -> list[Any] | None:
    """Read SiriDB's open map as an open array: [name, points, ...], or None if that fails.

    A name sent twice in one package (SiriDB forwards each input series as it comes) thus
    keeps both point lists, and no name is hashed. Like qpack's own map reading, this stops
    at a stray close byte. None (fall back to reading a map) on an explicit map close (0xff),
    on bad QPack, or on a name without points.
    """
    try:
        flat = unpackb(_OPEN_ARRAY + body[1:])
    except _QPACK_ERRORS:
        return None
    return None if len(flat) % 2 else flat


def raw_name(name: str) -> bytes:
    """A series name as the tee carries it: UTF-8 with SiriDB's trailing NUL."""
    return name.encode() + b"\x00"


def _decode_name(raw: bytes) -> str:
    stripped = raw[:-1] if raw.endswith(b"\x00") else raw
    try:
        return stripped.decode()
    except UnicodeDecodeError as exc:
        raise TeeProtocolError(f"series name {stripped[:60]!r} is not UTF-8: {exc}") from None


def count_points(body: bytes, only: Mapping[bytes, object] | None = None,
                 others: Callable[[set[bytes]], None] | None = None) -> dict[bytes, int]:
    """Return {raw series name: number of points} for one tee package body (the hot path).

    Names stay as on the wire (see raw_name()), not checked to be UTF-8. A name sent twice in
    one package is counted twice. With `only` (a mapping keyed by raw names) just the series
    among its keys are counted and checked, which saves building and checking the full map;
    `others`, if given, is then called with the package's names not among them.
    """
    try:  # _unpack_open_map() inlined: this is the hot path
        # Tuples: one allocation per point instead of two; only their number matters here.
        flat = _unpackb(_OPEN_ARRAY + body[1:], use_tuples=True) if body[:1] == b"\xfd" else None
    except _QPACK_ERRORS:
        flat = None
    if flat is None or len(flat) % 2:
        flat = _unpack_pairs(body)
    names = flat[0::2]
    if only is not None:
        try:
            wanted = only.keys() & names
        except TypeError:
            raise TeeProtocolError("a series name is not a string") from None
        if others is not None and len(wanted) < len(names):
            others(set(names).difference(wanted))
        if not wanted:
            return {}
        if len(wanted) * len(names) <= _FEW:
            counts = _count_few(flat, names, wanted)
            if counts is not None:
                return counts
        return _count_wanted(names, flat[1::2], wanted)
    if not set(map(type, names)) <= _BYTES:
        bad = next(n for n in names if type(n) is not bytes)
        raise TeeProtocolError(f"series name is {type(bad).__name__}, expected a string")
    values = flat[1::2]
    if not set(map(type, values)) <= _SEQUENCES:
        bad = next(i for i, points in enumerate(values) if type(points) not in _SEQUENCES)
        raise _points_error(names[bad], values[bad])
    counts = dict(zip(names, map(len, values), strict=True))
    if len(counts) != len(names):  # a name sent twice
        counts = _count_wanted(names, values, counts)
    return counts


def _points_error(name: object, points: object) -> TeeProtocolError:
    kind = type(points).__name__
    return TeeProtocolError(f"points of {name!r:.60} are {kind}, expected a list")


def _count_few(
    flat: Sequence[Any], names: Sequence[Any], wanted: Iterable[Any]
) -> dict[bytes, int] | None:
    """Count a few wanted series by C-level scans of names; None when one is sent twice."""
    counts: dict[bytes, int] = {}
    for name in wanted:
        if names.count(name) != 1:
            return None
        points = flat[2 * names.index(name) + 1]
        if type(points) not in _SEQUENCES:
            raise _points_error(name, points)
        counts[name] = len(points)
    return counts


def _count_wanted(
    names: Sequence[Any], values: Sequence[Any], wanted: Container[Any]
) -> dict[bytes, int]:
    counts: dict[bytes, int] = {}
    for name, points in zip(names, values, strict=True):
        if name in wanted:
            if type(points) not in _SEQUENCES:
                raise _points_error(name, points)
            counts[name] = counts.get(name, 0) + len(points)
    return counts


def decode_counts(body: bytes) -> dict[str, int]:
    """Return {series name: number of points} for one tee package body."""
    counts: dict[str, int] = {}
    for raw, n in count_points(body).items():
        name = _decode_name(raw)
        counts[name] = counts.get(name, 0) + n
    return counts


def decode_points(body: bytes) -> dict[str, list[list[Any]]]:
    """Return {series name: [[ts, value], ...]} for one tee package body, in client order.

    String values are decoded as UTF-8; values are as the client sent them (before SiriDB's
    type coercion).
    """
    flat = _unpack_pairs(body, "utf-8")
    result: dict[str, list[list[Any]]] = {}
    for name, points in zip(flat[0::2], flat[1::2], strict=True):
        if type(name) is not str:
            raise TeeProtocolError(f"series name is {type(name).__name__}, expected a string")
        if type(points) is not list:
            raise TeeProtocolError(f"points of {name!r} are {type(points).__name__}, not a list")
        if name.endswith("\x00"):
            name = name[:-1]
        for point in points:
            if type(point) is not list or len(point) != 2:
                raise TeeProtocolError(f"point of {name!r} is not a [timestamp, value] pair")
        result[name] = result[name] + points if name in result else points
    return result


def encode_package(
    series: Mapping[str, Sequence[Sequence[Any]]], *, pid: int = 0, tp: int = 0, check: int = 0
) -> bytes:
    """Build a tee package the way SiriDB writes one (header 0/0/0, open map, NUL names)."""
    parts = [b"\xfd"]
    packb = qpack.packb
    for name, points in series.items():
        parts.append(packb(name.encode() + b"\x00"))
        parts.append(b"\xfc")
        parts.extend(packb(list(point)) for point in points)
        parts.append(b"\xfe")
    body = b"".join(parts)
    return HEADER.pack(len(body), pid, tp, check) + body
