"""Validation of INSERT bodies with SiriDB's error messages and error order.

SiriDB reads an insert with a streaming unpacker and rejects the whole request at the
first problem; the checks below follow the order in which that stream meets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERR_EXPECTING_ARRAY = 'Expecting an array with points.'
ERR_EXPECTING_SERIES_NAME = (
    'Expecting a series name (string value) with an array of points where each point '
    'should be an integer time-stamp with a value.')
ERR_EXPECTING_MAP_OR_ARRAY = 'Expecting an array or map containing series and points.'
ERR_EXPECTING_INTEGER_TS = 'Expecting an integer value as time-stamp.'
ERR_TIMESTAMP_OUT_OF_RANGE = 'Received at least one time-stamp which is out-of-range.'
ERR_UNSUPPORTED_VALUE = (
    'Unsupported value received. (only integer, float and string values are supported).')
ERR_EXPECTING_AT_LEAST_ONE_POINT = 'Expecting a series to have at least one point.'
ERR_EXPECTING_NAME_AND_POINTS = 'Expecting a map with name and points.'

# Names are stored with a terminating NUL, so SiriDB accepts up to 65534 bytes.
SERIES_NAME_LEN_MAX = 65535
SECONDS_TS_LIMIT = 2 ** 32


class InsertError(Exception):
    """An insert body SiriDB rejects; the message is SiriDB's error_msg."""


@dataclass(frozen=True)
class SeriesPoints:
    """The points of one series as the client sent them, in request order."""

    name: bytes
    points: list[list[Any]]


class _BadPoint(Exception):
    """A later item of a point list is not a [ts, value] pair (ends the stream)."""


def _is_pair(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 2


def _valid_name(name: Any) -> bool:
    return isinstance(name, bytes) and 0 < len(name) < SERIES_NAME_LEN_MAX


def _check_points(points: Any, seconds: bool) -> list[list[Any]]:
    if not isinstance(points, list):
        raise InsertError(ERR_EXPECTING_ARRAY)
    if not points or not _is_pair(points[0]):
        raise InsertError(ERR_EXPECTING_AT_LEAST_ONE_POINT)
    for point in points:
        if not _is_pair(point):
            raise _BadPoint
        ts, value = point
        if type(ts) is not int:
            raise InsertError(ERR_EXPECTING_INTEGER_TS)
        if ts < 0 or (seconds and ts >= SECONDS_TS_LIMIT):
            raise InsertError(ERR_TIMESTAMP_OUT_OF_RANGE)
        if type(value) not in (int, float, bytes):
            raise InsertError(ERR_UNSUPPORTED_VALUE)
    return points


def _by_map(body: dict[Any, Any], seconds: bool) -> list[SeriesPoints]:
    result = []
    for name, points in body.items():
        if not _valid_name(name):
            raise InsertError(ERR_EXPECTING_SERIES_NAME)
        try:
            result.append(SeriesPoints(name, _check_points(points, seconds)))
        except _BadPoint:
            raise InsertError(ERR_EXPECTING_SERIES_NAME) from None
    return result


def _by_array(body: list[Any], seconds: bool) -> list[SeriesPoints]:
    result = []
    for item in body:
        if not isinstance(item, dict) or len(item) != 2:
            raise InsertError(ERR_EXPECTING_SERIES_NAME)
        (key1, val1), (key2, val2) = item.items()
        if key1 == b'points':
            try:
                points = _check_points(val1, seconds)
            except _BadPoint:
                raise InsertError(ERR_EXPECTING_NAME_AND_POINTS) from None
            if key2 != b'name' or not _valid_name(val2):
                raise InsertError(ERR_EXPECTING_NAME_AND_POINTS)
            result.append(SeriesPoints(val2, points))
        elif key1 == b'name':
            if not _valid_name(val1) or key2 != b'points':
                raise InsertError(ERR_EXPECTING_NAME_AND_POINTS)
            try:
                result.append(SeriesPoints(val1, _check_points(val2, seconds)))
            except _BadPoint:
                raise InsertError(ERR_EXPECTING_SERIES_NAME) from None
        else:
            raise InsertError(ERR_EXPECTING_NAME_AND_POINTS)
    return result


def parse_insert(body: Any, seconds_precision: bool = False) -> list[SeriesPoints]:
    """Validate a decoded insert body (raw strings as bytes) and list its series.

    Raises InsertError with SiriDB's message when the request must be rejected.
    """
    if isinstance(body, dict):
        return _by_map(body, seconds_precision)
    if isinstance(body, list):
        return _by_array(body, seconds_precision)
    raise InsertError(ERR_EXPECTING_MAP_OR_ARRAY)


def count_points(series: list[SeriesPoints]) -> int:
    """Total number of points in a validated insert (duplicates counted)."""
    return sum(len(s.points) for s in series)
