"""Decoding tee package bodies: counts, points, and the errors that close a connection."""

from __future__ import annotations

import pytest
import qpack
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.listener.tee import (
    HEADER,
    TeeProtocolError,
    count_points,
    decode_counts,
    decode_points,
    encode_package,
    raw_name,
)


def body_of(series):
    return encode_package(series)[HEADER.size :]


def open_map(*items: bytes) -> bytes:
    """A body the way SiriDB writes it: 0xfd, then name/points items, never closed."""
    return b"\xfd" + b"".join(items)


def name(text: bytes) -> bytes:
    return qpack.packb(text)


POINTS_2 = b"\xfc\xef\x01\x01\xef\x02\x02\xfe"  # [[1, 1], [2, 2]]


def test_names_lose_their_nul_and_decode_as_utf8():
    body = body_of({"tee/it's ü": [[1, 1]], "ascii": [[1, 1], [2, 2]]})
    assert decode_counts(body) == {"tee/it's ü": 1, "ascii": 2}
    assert count_points(body) == {raw_name("tee/it's ü"): 1, b"ascii\x00": 2}


def test_string_values_decode_as_text():
    body = body_of({"s": [[1, "text"], [2, ""], [3, "ü"]]})
    assert decode_points(body) == {"s": [[1, "text"], [2, ""], [3, "ü"]]}


def test_a_name_sent_twice_is_counted_twice():
    body = open_map(
        name(b"a\x00"), POINTS_2, name(b"b\x00"), POINTS_2, name(b"a\x00"), b"\xfc\xef\x03\x03\xfe"
    )
    assert decode_counts(body) == {"a": 3, "b": 2}
    assert count_points(body) == {b"a\x00": 3, b"b\x00": 2}
    assert count_points(body, {b"a\x00": "a"}) == {b"a\x00": 3}  # the watched-only path
    assert count_points(body, {b"b\x00": "b"}) == {b"b\x00": 2}
    assert decode_points(body) == {"a": [[1, 1], [2, 2], [3, 3]], "b": [[1, 1], [2, 2]]}


def test_a_name_without_nul_is_accepted():
    body = open_map(name(b"plain"), POINTS_2, name(b"plain\x00"), POINTS_2)
    assert decode_counts(body) == {"plain": 4}
    assert decode_points(body) == {"plain": [[1, 1], [2, 2], [1, 1], [2, 2]]}


def test_closed_and_fixed_maps_are_read_too():
    closed = open_map(name(b"a\x00"), POINTS_2) + b"\xff"
    assert decode_counts(closed) == {"a": 2}
    fixed = qpack.packb({b"a\x00": [[1, 1]], b"b\x00": [[1, 1], [2, 2], [3, 3]]})
    assert fixed[0] == 0xF5
    assert decode_counts(fixed) == {"a": 1, "b": 3}
    assert decode_points(fixed) == {"a": [[1, 1]], "b": [[1, 1], [2, 2], [3, 3]]}


def test_empty_map_and_empty_point_list():
    assert decode_counts(b"\xfd") == {}
    assert decode_counts(open_map(name(b"a\x00"), b"\xfc\xfe")) == {"a": 0}


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"", "empty package body"),
        (b"\xff", "starts with 0xff"),  # qpack 0.0.21 itself would crash on these two
        (b"\xfe\x01", "starts with 0xfe"),
        (b"\xfd\x85abc", "bad QPack"),  # a name cut short
        (open_map(name(b"a\x00")), "bad QPack"),  # a name without points
        (b"\xfd\xe6\xff\xff\xff\xff", "bad QPack"),  # a raw length past the end
        (b"\xe7" + b"\xff" * 8, "bad QPack"),  # qpack raises SystemError on this one
        (open_map(name(b"a\x00"), b"\xfc\x01\xff"), "bad QPack"),  # map close inside an array
        (qpack.packb([1, 2, 3]), "package body is list, expected a map"),
        (b"\x05", "package body is int, expected a map"),
        (qpack.packb("text"), "package body is bytes, expected a map"),
        (open_map(name(b"a\x00"), b"\x05"), "are int, expected a list"),
        (open_map(name(b"a\x00"), name(b"xyz")), "are bytes, expected a list"),
        (open_map(name(b"a\x00"), b"\xf4\x01\x02"), "are dict, expected a list"),
        (open_map(POINTS_2, POINTS_2), "series name is tuple, expected a string"),
        (open_map(b"\xf3", POINTS_2), "series name is dict, expected a string"),
    ],
)
def test_malformed_bodies_raise_tee_protocol_error(body, reason):
    for decode in (count_points, decode_counts, decode_points):
        with pytest.raises(TeeProtocolError) as info:
            decode(body)
        if decode is count_points:
            assert reason in str(info.value)


def test_name_that_is_not_utf8():
    body = open_map(name(b"bad\xff\xfe\x00"), POINTS_2)
    assert count_points(body) == {b"bad\xff\xfe\x00": 2}  # cannot match a watched name
    with pytest.raises(TeeProtocolError, match="not UTF-8"):
        decode_counts(body)
    with pytest.raises(TeeProtocolError):
        decode_points(body)


def test_name_that_is_not_a_string():
    body = open_map(b"\x05", POINTS_2)
    assert count_points(body, {b"a\x00": "a"}) == {}  # cannot match a watched name
    for decode in (count_points, decode_counts):
        with pytest.raises(TeeProtocolError, match="series name is int"):
            decode(body)
    with pytest.raises(TeeProtocolError, match="series name is int"):
        decode_points(body)


def test_point_that_is_not_a_pair():
    body = open_map(name(b"a\x00"), b"\xfc\xf0\x01\x02\x03\xfe")  # [[1, 2, 3]]
    assert decode_counts(body) == {"a": 1}  # counting does not look inside points
    with pytest.raises(TeeProtocolError, match="not a \\[timestamp, value\\] pair"):
        decode_points(body)


values = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
series_st = st.dictionaries(
    st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s),
    st.lists(st.tuples(st.integers(0, 2**63 - 1), values).map(list), min_size=1, max_size=12),
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(series_st)
def test_round_trip(series):
    body = body_of(series)
    assert decode_counts(body) == {n: len(p) for n, p in series.items()}
    assert count_points(body) == {raw_name(n): len(p) for n, p in series.items()}
    assert decode_points(body) == series


# Mostly QPack's structural bytes (containers, closes, short strings and ints), so that random
# input reaches deep into the decoder; this found a crash in the error path once.
STRUCTURAL = [0xFD, 0xFC, 0xFE, 0xFF, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xEC, 0xED, 0xEE, 0xEF, 0xF0]
STRUCTURAL += [0xF3, 0xF4, 0xF5, 0x80, 0x81, 0x82, 0x00, 0x01, 0x7C, 0xFB]
junk_st = st.lists(st.sampled_from(STRUCTURAL) | st.integers(0, 255), max_size=40).map(bytes)


@settings(max_examples=500, deadline=None)
@given(st.booleans(), junk_st)
def test_arbitrary_bytes_never_raise_anything_else(open_map_first, junk):
    body = b"\xfd" + junk if open_map_first else junk
    only = {b"a\x00": "a", b"a": "a"}
    for decode in (count_points, decode_counts, decode_points, lambda b: count_points(b, only)):
        try:
            decode(body)
        except TeeProtocolError:
            pass


def test_count_points_only_some_series():
    body = open_map(name(b"a\x00"), POINTS_2, name(b"b\x00"), POINTS_2, name(b"a\x00"), POINTS_2)
    only = {b"a\x00": "a", b"zz\x00": "zz"}
    assert count_points(body, only) == {b"a\x00": 4}
    assert count_points(body, {b"c\x00": "c"}) == {}
    assert count_points(b"\xfd", only) == {}
    assert count_points(open_map(name(b"b\x00"), b"\x05"), only) == {}  # not wanted: not read
    with pytest.raises(TeeProtocolError, match="points of b'a.x00' are int, expected a list"):
        count_points(open_map(name(b"a\x00"), b"\x05"), only)
    assert count_points(open_map(POINTS_2, POINTS_2), only) == {}  # cannot match: ignored
    with pytest.raises(TeeProtocolError, match="not a string"):
        count_points(open_map(b"\xf3", POINTS_2), only)
