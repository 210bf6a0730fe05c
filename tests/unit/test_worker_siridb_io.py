"""The worker's SiriDB layer: quoting, query text, chunk planning, chunked reads."""

from __future__ import annotations

import asyncio

import pytest

from actors.common.siridb_queries import head_query, quote
from actors.worker.detection import events_name
from actors.worker.siridb_io import (
    SeriesNotFound,
    SiriDBQueryFailed,
    between_query,
    convert_ts,
    count_query,
    drop_query,
    first_width,
    last_points,
    next_width,
    output_names,
    tail_query,
    windows_backward,
)
from tests.support.memory_siridb import MemorySiriDB


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("cpu", "'cpu'"),
        ("it's", "'it''s'"),
        ("''", "''''''"),
        ("a/b c.d \u00fc \"x\"", "'a/b c.d \u00fc \"x\"'"),
    ],
)
def test_quote_doubles_single_quotes(name, quoted):
    assert quote(name) == quoted


def test_query_text():
    assert count_query("it's") == "select count() from 'it''s'"
    assert tail_query("x", 500) == "select * from 'x' tail 500"
    assert between_query("x", 10, 20) == "select * from 'x' between 10 and 20"
    # Enodo drops only its own outputs, by exact name: whatever the drop_threshold.
    assert drop_query("a'b") == "drop series 'a''b' set ignore_threshold true"


@pytest.mark.parametrize("points", [0, -1, 1_000_001])
def test_head_and_tail_outside_siridbs_range_are_a_bug(points):
    with pytest.raises(ValueError):
        tail_query("x", points)
    with pytest.raises(ValueError):
        head_query("x", points)


def test_output_names_derive_from_the_series():
    assert output_names("a/b") == {
        "forecast": "enodo.a/b.forecast", "lower": "enodo.a/b.lower",
        "upper": "enodo.a/b.upper", "anomalies": "enodo.a/b.anomalies",
    }


def test_every_output_series_is_known_to_the_query_limits():
    from actors.common.siridb_queries import output_series

    outputs = set(output_series("a/b").values())
    assert set(output_names("a/b").values()) | {events_name("a/b")} == outputs


@pytest.mark.parametrize(
    ("ts", "source", "target", "expected"),
    [(1500, "ms", "ms", 1500), (1500, "ms", "s", 1), (2, "s", "ns", 2 * 10**9),
     (1_700_000_000_123_456, "us", "ms", 1_700_000_000_123)],
)
def test_convert_ts(ts, source, target, expected):
    assert convert_ts(ts, source, target) == expected


def test_chunk_planning():
    # 1,000,000 points over 1,000,000 ms: 100,000-point windows are 100,000 ms wide.
    assert first_width(0, 999_999, 1_000_000, 100_000) == 100_000
    assert first_width(5, 5, 1, 100_000) == 1
    assert next_width(1000, 0, 100) == 4000          # empty window: widen, bounded
    assert next_width(1000, 400, 100) == 500         # dense: shrink by at most half
    assert next_width(1000, 50, 100) == 2000         # sparse: scale up to density
    assert windows_backward(1000, 900, 500).start == 900
    assert windows_backward(1000, 0, 300) .start == 700
    assert last_points([[[1, 1]], [[2, 2.5], [3, 3]]], 2) == [(2, 2.5), (3, 3.0)]
    assert last_points([[[1, 1]]], 0) == []


def test_small_reads_use_tail():
    db = MemorySiriDB({"x": [[i, float(i)] for i in range(100)]})
    count, last = run(db.count("x"))
    assert (count, last) == (100, 99)
    points = run(db.read_last("x", 30, count, last, chunk_points=50))
    assert points == [(i, float(i)) for i in range(70, 100)]
    assert db.queries[-1] == "select * from 'x' tail 30"


def test_long_history_is_read_in_bounded_chunks():
    # Irregular density: sparse old points, a dense recent burst.
    stamps = list(range(0, 10_000, 10)) + list(range(10_000, 12_000))
    db = MemorySiriDB({"it's": [[t, t * 0.5] for t in stamps]})
    count, last = run(db.count("it's"))
    points = run(db.read_last("it's", 2500, count, last, chunk_points=300))
    assert [p[0] for p in points] == stamps[-2500:]
    selects = [q for q in db.queries if " between " in q]
    assert len(selects) > 3
    sizes = [len(run(MemorySiriDB(db.series).query(q))["it's"]) for q in selects]
    assert max(sizes) <= 4 * 300 and sum(sizes) >= 2500


def test_whole_history_when_fewer_points_than_wanted():
    stamps = [t * 7 for t in range(1000)]
    db = MemorySiriDB({"x": [[t, 1.0] for t in stamps]})
    points = run(db.read_last("x", 5000, 1000, stamps[-1], chunk_points=64))
    assert [p[0] for p in points] == stamps


def test_read_between_since_and_until():
    db = MemorySiriDB({"x": [[t, float(t)] for t in range(0, 1000, 10)]})
    points = run(db.read_last("x", 1000, 100, 990, chunk_points=1000, since=500, until=560))
    assert [p[0] for p in points] == [500, 510, 520, 530, 540, 550]
    chunked = run(db.read_last("x", 1000, 100, 990, chunk_points=7, since=500, until=560))
    assert chunked == points
    assert run(db.read_last("x", 1000, 100, 990, since=2000)) == []


def test_read_until_without_since():
    db = MemorySiriDB({"x": [[t, float(t)] for t in range(0, 100, 10)]})
    points = run(db.read_last("x", 1000, 10, 90, since=None, until=35))
    assert [p[0] for p in points] == [0, 10, 20, 30]
    chunked = run(db.read_last("x", 1000, 10, 90, chunk_points=2, since=None, until=35))
    assert chunked == points


def test_no_tail_over_siridbs_limit_whatever_the_chunk_size():
    # 1,200,000 points wanted with a chunk size no configuration may set any more.
    stamps = range(1_200_000)
    db = MemorySiriDB({"x": [[t, 1.0] for t in stamps]})
    points = run(db.read_last("x", 1_200_000, 1_200_000, stamps[-1], chunk_points=5_000_000))
    assert len(points) == 1_200_000
    assert not any(" tail " in q for q in db.queries)
    assert len([q for q in db.queries if " between " in q]) >= 2


def test_missing_series_and_dropping_an_absent_series():
    db = MemorySiriDB({})
    with pytest.raises(SeriesNotFound):
        run(db.count("nope"))
    run(db.drop("nope"))  # SiriDB drops 0 series: not an error
    assert db.queries == ["select count() from 'nope'",
                          "drop series 'nope' set ignore_threshold true"]


def test_a_refused_drop_is_an_error():
    class Refusing(MemorySiriDB):
        async def query(self, text):
            if text.startswith("drop "):
                raise SiriDBQueryFailed("This query would drop 100.00% of the series")
            return await super().query(text)

    with pytest.raises(SiriDBQueryFailed):
        run(Refusing({"x": [[1, 1.0]]}).drop("x"))
