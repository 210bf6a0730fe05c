"""PointCounter: watched series, pending counts, realtime, restore after a failed send."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from actors.listener.counter import PointCounter
from actors.listener.hub_link import _chunks
from actors.listener.tee import HEADER, count_points, encode_package, raw_name
from protocol.envelope import Codec, Message
from protocol.types import MessageType


def counter_watching(*names, realtime=()):
    counter = PointCounter()
    counter.replace(names, realtime=realtime)
    return counter


def test_only_watched_series_are_counted():
    counter = counter_watching("a", "b")
    assert counter.add({"a": 3, "x": 5}) == 3
    assert counter.add({"a": 1, "b": 2}) == 3
    assert counter.take() == {"a": 4, "b": 2}
    assert counter.take() == {}


def test_add_raw_takes_count_points_output():
    counter = counter_watching("cpu/it's ü", "b")
    body = encode_package({"cpu/it's ü": [[1, 1], [2, 2]], "other": [[1, 1]]})[HEADER.size :]
    assert counter.add_raw(count_points(body)) == 2
    assert counter.add_raw({b"b": 1, b"b\x00": 2, b"\xff\x00": 9, 5: 1}) == 3  # NUL optional
    assert counter.take() == {"cpu/it's ü": 2, "b": 3}


def test_count_watched_counts_only_watched_series():
    counter = counter_watching("a", "b")
    body = encode_package({"a": [[1, 1]], "x": [[1, 1]] * 3, "b": [[1, 1]] * 2})[HEADER.size :]
    assert counter.count_watched(body) == {b"a\x00": 1, b"b\x00": 2}
    assert counter.pending_points == 0  # counting is add_raw's job
    counter.unwatch("b")
    assert counter.add_raw(counter.count_watched(body)) == 1
    many = {raw_name(f"s{i}"): 1 for i in range(20)} | {b"a\x00": 5}  # the C-intersection path
    assert counter.add_raw(many) == 5
    assert counter.take() == {"a": 6}


def test_zero_and_negative_counts_are_ignored():
    counter = counter_watching("a")
    assert counter.add({"a": 0}) == 0
    assert counter.add_raw({raw_name("a"): -1}) == 0
    assert counter.take() == {}
    assert len(counter) == 0


def test_replace_drops_counts_of_series_no_longer_watched():
    counter = counter_watching("a", "b")
    counter.add({"a": 1, "b": 1})
    counter.replace(["b", "c"])
    assert counter.watched() == {"b", "c"}
    counter.add({"a": 5, "c": 2})
    counter.add_raw({b"a\x00": 5, b"c\x00": 1})
    assert counter.take() == {"b": 1, "c": 3}


def test_watch_and_unwatch():
    counter = PointCounter()
    counter.watch("a")
    assert counter.is_watched("a")
    counter.add_raw({b"a\x00": 2})
    counter.watch("a")  # again: pending count kept
    assert counter.pending_points == 2
    counter.unwatch("a")
    assert not counter.is_watched("a")
    assert counter.add_raw({b"a\x00": 2}) == 0
    assert counter.take() == {}
    counter.unwatch("never-watched")  # no error


def test_restore_merges_back_for_still_watched_series():
    counter = counter_watching("a", "b")
    counter.add({"a": 3, "b": 1})
    taken = counter.take()
    counter.add({"a": 2})
    counter.unwatch("b")
    counter.restore(taken)  # the send failed
    assert counter.take() == {"a": 5}


def test_nothing_is_lost_across_failed_sends():
    counter = counter_watching("a", "b", realtime=["b"])
    total = {"a": 0, "b": 0}
    delivered = {"a": 0, "b": 0}
    for step in range(50):
        counts = {"a": step % 7, "b": step % 3}
        counter.add(counts)
        for name, n in counts.items():
            total[name] += n
        batch = counter.take_realtime() if step % 2 else counter.take()
        if step % 5 == 0:
            counter.restore(batch)  # the hub was away
        else:
            for name, n in batch.items():
                delivered[name] += n
    for name, n in counter.take().items():
        delivered[name] += n
    assert delivered == total


def test_realtime_series_are_flagged_for_sending_at_once():
    counter = counter_watching("slow", realtime=["fast"])
    assert counter.is_watched("fast")
    counter.add({"slow": 2})
    assert not counter.has_realtime_pending()
    counter.add_raw({b"fast\x00": 1})
    assert counter.has_realtime_pending()
    assert counter.take_realtime() == {"fast": 1}
    assert not counter.has_realtime_pending()
    assert counter.take() == {"slow": 2}


def test_take_clears_the_realtime_flag_too():
    counter = counter_watching(realtime=["fast"])
    counter.add({"fast": 1})
    assert counter.take() == {"fast": 1}
    assert not counter.has_realtime_pending()
    assert counter.take_realtime() == {}


def test_restore_of_a_realtime_series_flags_it_again():
    counter = counter_watching(realtime=["fast"])
    counter.add({"fast": 1})
    counter.restore(counter.take_realtime())
    assert counter.has_realtime_pending()
    assert counter.take_realtime() == {"fast": 1}


def test_changing_the_realtime_flag():
    counter = counter_watching("a")
    counter.add({"a": 1})
    counter.watch("a", realtime=True)  # pending points of a now go at once
    assert counter.take_realtime() == {"a": 1}
    counter.add({"a": 1})
    counter.watch("a", realtime=False)
    assert not counter.has_realtime_pending()
    counter.replace(["a"], realtime=["a"])
    assert counter.has_realtime_pending()
    counter.replace(["a"])
    assert not counter.has_realtime_pending()
    assert counter.take() == {"a": 1}


names_st = st.sampled_from(["a", "b", "c", "d"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "take", "take_rt", "fail"]),
            st.dictionaries(names_st, st.integers(0, 100)),
        ),
        max_size=40,
    )
)
def test_counted_equals_delivered_plus_pending(ops):
    counter = counter_watching("a", "b", realtime=["c"])  # d is not watched
    counted = delivered = 0
    for op, counts in ops:
        if op == "add":
            counted += counter.add(counts)
        else:
            batch = counter.take_realtime() if op == "take_rt" else counter.take()
            if op == "fail":
                counter.restore(batch)
            else:
                delivered += sum(batch.values())
    assert counted == delivered + counter.pending_points
    if counter.has_realtime_pending():
        assert set(counter.take_realtime()) == {"c"}
    assert counter.take_realtime() == {}
    assert "c" not in counter.take()


def test_counts_are_sent_in_chunks_the_hub_control_socket_takes():
    counts = {f"n{i}-" + "x" * 60_000: 1 for i in range(40)}  # long names: 2.4 MB in all
    counts.update({f"short/{i}": 2 for i in range(12_000)})
    counts["zero"] = 0
    chunks = _chunks(counts)
    assert sum(len(c) for c in chunks) == len(counts) - 1
    assert all("zero" not in chunk for chunk in chunks)
    codec = Codec("listener")
    for chunk in chunks:
        frames = codec.encode(Message(MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": chunk}))
        assert sum(map(len, frames)) < 1024 * 1024 and len(chunk) <= 5000
