"""TeeFramer: packages out of arbitrary chunks, framed on the length alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors.listener.tee import HEADER, TeeFramer, TeeProtocolError, encode_package
from tests.unit.test_tee_vectors import all_packages

PACKAGES = [package for _, package, _ in all_packages()]
BODIES = [package[HEADER.size :] for package in PACKAGES]
STREAM = b"".join(PACKAGES)


def feed_all(framer, chunks):
    out = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out


@pytest.mark.parametrize("package", PACKAGES, ids=[name for name, _, _ in all_packages()])
def test_every_split_point_of_every_package(package):
    for cut in range(len(package) + 1):
        framer = TeeFramer()
        assert feed_all(framer, [package[:cut], package[cut:]]) == [package[HEADER.size :]]
        assert framer.buffered == 0


def test_byte_by_byte():
    framer = TeeFramer()
    assert feed_all(framer, [bytes([b]) for b in STREAM]) == BODIES
    assert framer.buffered == 0


def test_every_split_point_of_the_whole_stream():
    for cut in range(len(STREAM) + 1):
        assert feed_all(TeeFramer(), [STREAM[:cut], STREAM[cut:]]) == BODIES


def test_several_packages_in_one_chunk():
    framer = TeeFramer()
    assert list(framer.feed(STREAM)) == BODIES
    assert list(framer.feed(STREAM + STREAM)) == BODIES + BODIES


def test_partial_package_waits_for_the_rest():
    framer = TeeFramer()
    assert list(framer.feed(PACKAGES[0] + PACKAGES[1][:5])) == [BODIES[0]]
    assert framer.buffered == 5
    assert list(framer.feed(PACKAGES[1][5:-1])) == []
    assert framer.buffered == len(PACKAGES[1]) - 1
    assert list(framer.feed(PACKAGES[1][-1:] + PACKAGES[2])) == [BODIES[1], BODIES[2]]
    assert framer.buffered == 0


@pytest.mark.parametrize(
    "pid,tp,check",
    [
        (0, 0, 0),
        (7, 134, 0x79),
        (65535, 135, 0),
        (1, 137, 1),
        (2, 139, 0x74),
        (3, 255, 255),
        (9, 3, 0),
    ],
)
def test_pid_type_and_check_are_not_validated(pid, tp, check):
    series = {"cluster.series": [[1, 1], [2, 2.5]]}
    package = encode_package(series, pid=pid, tp=tp, check=check)
    assert HEADER.unpack_from(package)[1:] == (pid, tp, check)
    assert list(TeeFramer().feed(package * 3)) == [package[HEADER.size :]] * 3


def test_empty_body_is_framed():
    assert list(TeeFramer().feed(HEADER.pack(0, 0, 0, 0) + PACKAGES[0])) == [b"", BODIES[0]]


def test_over_size_header_raises_before_the_body_arrives():
    framer = TeeFramer(max_package_size=100)
    with pytest.raises(TeeProtocolError, match="101 bytes exceeds the maximum of 100"):
        list(framer.feed(HEADER.pack(101, 0, 0, 0)))
    with pytest.raises(TeeProtocolError):  # the stream cannot be resynchronised
        list(framer.feed(PACKAGES[0]))


def test_over_size_header_split_over_chunks():
    framer = TeeFramer(max_package_size=100)
    assert list(framer.feed(HEADER.pack(2**32 - 1, 0, 0, 0)[:5])) == []
    with pytest.raises(TeeProtocolError, match="4294967295 bytes"):
        list(framer.feed(b"\x00\x00\x00"))


def test_packages_before_an_over_size_header_still_come_out():
    framer = TeeFramer(max_package_size=len(BODIES[0]))
    got = []
    with pytest.raises(TeeProtocolError):
        for body in framer.feed(PACKAGES[0] + HEADER.pack(len(BODIES[0]) + 1, 0, 0, 0)):
            got.append(body)
    assert got == [BODIES[0]]


def test_package_of_exactly_the_maximum_size_passes():
    framer = TeeFramer(max_package_size=len(BODIES[1]))
    assert list(framer.feed(PACKAGES[1])) == [BODIES[1]]


def test_default_maximum_allows_siridb_sized_packages():
    big = 19 * 1024 * 1024  # a 1M-point insert is one 19 MB package
    framer = TeeFramer()
    assert list(framer.feed(HEADER.pack(big, 0, 0, 0) + bytes(1000))) == []
    assert framer.buffered == HEADER.size + 1000


def test_large_package_in_many_chunks():
    series = {f"s{i}": [[t, t * 0.5] for t in range(1000)] for i in range(20)}
    package = encode_package(series)
    framer = TeeFramer()
    chunks = [package[i : i + 4096] for i in range(0, len(package), 4096)]
    assert feed_all(framer, chunks + [PACKAGES[0]]) == [package[HEADER.size :], BODIES[0]]


def test_abandoned_iterator_keeps_its_packages_for_the_next_feed():
    framer = TeeFramer()
    first = framer.feed(STREAM)
    assert next(first) == BODIES[0]
    rest = list(framer.feed(PACKAGES[0]))
    assert list(first) == []  # superseded
    assert rest == BODIES[1:] + [BODIES[0]]


def test_accepts_bytearray_and_memoryview():
    framer = TeeFramer()
    assert feed_all(framer, [bytearray(STREAM[:10]), memoryview(STREAM[10:])]) == BODIES


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_chunking_gives_the_same_bodies(data):
    order = data.draw(st.lists(st.sampled_from(range(len(PACKAGES))), min_size=1, max_size=12))
    stream = b"".join(PACKAGES[i] for i in order)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    bounds = [0, *cuts, len(stream)]
    chunks = [stream[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    framer = TeeFramer()
    assert feed_all(framer, chunks) == [BODIES[i] for i in order]
    assert framer.buffered == 0
