"""The hub's watch by pattern: matches watched a slice per turn with the template, listings,
exclusions, the grace period, restarts (a HubState on a real store; the listing answered
by tests/support/fake_listing.py)."""

from __future__ import annotations

import pytest

from actors.hub import pattern_watch
from actors.hub.actions import run_action
from actors.hub.handlers import handle_control
from actors.hub.pattern_watch import PatternWatcher
from protocol.envelope import Message
from protocol.errors import ProtocolError
from protocol.types import MessageType
from tests.support.fake_listing import FakeListingLink
from tests.support.hub_state import FakeClock, hello, make_state

CPU = "/cpu\\..*/"
TEMPLATE = {"model": "ets", "realtime": True, "anomaly": {"k": 2, "n": 3}}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def state(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    run_action(state, "set_settings", {"settings": {"pattern_list_interval": 1}})
    return state


def watcher(state, names, list_limit=10_000):
    return PatternWatcher(state, FakeListingLink(names, list_limit))


def listing(watch, clock):
    """Run the turns of one complete listing (the fake link answers at once)."""
    clock.now += 1
    watch.tick(clock.now)
    for _ in range(10_000):
        watch.drain()
        if watch.waiting is None:
            return
    raise AssertionError("listing did not end")


def settle(watch, clock):
    while watch.tick(clock.now) <= clock.now:
        pass
    counted_right(watch.state)


def counted_right(state):
    """The counts a pattern's info shows are what its records say."""
    book = state.patterns
    for pid in book.patterns:
        members = [n for n, owner in book.members.items() if owner == pid]
        assert book.counts[pid] == {
            "series": len(members), "missing": sum(1 for n in members if n in book.missing),
            "excluded": sum(1 for owner, _ in book.excluded.values() if owner == pid),
            "pending": sum(1 for owner in book.pending.values() if owner == pid)}


def test_a_listing_watches_every_match_with_the_template(state, clock):
    run_action(state, "add_pattern", {"pattern": CPU, "template": TEMPLATE})
    watch = watcher(state, [f"cpu.{i}" for i in range(30)] + ["mem.1", "cpu"], list_limit=7)
    listing(watch, clock)
    settle(watch, clock)
    assert sorted(s.name for s in state.series) == sorted(f"cpu.{i}" for i in range(30))
    series = state.get_series("cpu.3")
    assert (series.model, series.realtime, series.anomaly["k"]) == ("ets", True, 2)
    info = run_action(state, "get_pattern", {"id": 1})
    assert (info["series"], info["listed"], info["pending"]) == (30, 30, 0)


def test_matches_are_added_in_bounded_slices(state, clock, monkeypatch):
    monkeypatch.setattr(pattern_watch, "SLICE", 10)
    run_action(state, "add_pattern", {"pattern": CPU})
    watch = watcher(state, [f"cpu.{i}" for i in range(35)])
    watch.perf = lambda: 0.0  # no time passes: the count bounds the slice
    listing(watch, clock)
    sizes = []
    while state.patterns.pending:
        before = len(state.series)
        due = watch.tick(clock.now)
        sizes.append(len(state.series) - before)
        # While more waits, the next turn comes at once.
        assert (due == clock.now) is bool(state.patterns.pending)
    assert sizes == [10, 10, 10, 5]


def test_a_slice_ends_when_its_time_is_up(state, clock):
    run_action(state, "add_pattern", {"pattern": CPU})
    watch = watcher(state, [f"cpu.{i}" for i in range(35)])
    listing(watch, clock)
    ticks = iter(range(10**6))
    watch.perf = lambda: next(ticks) * 0.002  # each look at the clock: 2 ms later
    before = len(state.series)
    watch.tick(clock.now)
    assert len(state.series) - before == 2  # 0, 2, 4 ms: the 5 ms are up after two


def test_series_seen_by_a_listener_are_checked_and_queued(state, clock):
    run_action(state, "add_pattern", {"pattern": CPU})
    run_action(state, "add_series", {"name": "cpu.hand"})
    handle_control(state, b"L", hello("l1", "listener"))
    sent = [out.msg.type for out in state.outbox.take()]
    assert MessageType.UPDATE_PATTERNS in sent
    seen = Message(MessageType.SERIES_SEEN, {"names": ["cpu.a", "mem.a", "cpu.hand"]})
    reply = handle_control(state, b"L", seen)
    assert reply.body["data"] == {"queued": 1}  # mem.a does not match, cpu.hand is watched
    settle(watcher(state, []), clock)
    assert "cpu.a" in state.series
    handle_control(state, b"C", hello("c1", "client"))
    with pytest.raises(ProtocolError, match="SERIES_SEEN is for listeners"):
        handle_control(state, b"C", Message(MessageType.SERIES_SEEN, {"names": ["cpu.z"]}))
    assert "cpu.z" not in state.patterns.pending


def test_a_series_removed_by_hand_is_excluded_until_added_by_hand(state, clock):
    run_action(state, "add_pattern", {"pattern": CPU})
    watch = watcher(state, ["cpu.a", "cpu.b"])
    listing(watch, clock)
    settle(watch, clock)
    run_action(state, "remove_series", {"name": "cpu.a"})
    listing(watch, clock)
    settle(watch, clock)
    assert "cpu.a" not in state.series
    page = run_action(state, "pattern_series", {"id": 1})
    assert [(r["name"], r["state"]) for r in page["series"]] == [
        ("cpu.a", "excluded"), ("cpu.b", "watched")]
    counted_right(state)
    run_action(state, "add_series", {"name": "cpu.a", "model": "theta"})
    counted_right(state)
    assert state.patterns.excluded == {}
    assert state.get_series("cpu.a").model == "theta"  # the operator's, not the pattern's


def test_a_series_siridb_dropped_is_let_go_after_the_grace(state, clock):
    run_action(state, "set_settings", {"settings": {"pattern_grace": 60}})
    run_action(state, "add_pattern", {"pattern": CPU})
    watch = watcher(state, ["cpu.a", "cpu.b"])
    listing(watch, clock)
    settle(watch, clock)
    watch.link.names.remove("cpu.a")
    listing(watch, clock)
    assert run_action(state, "get_pattern", {"id": 1})["missing"] == 1
    clock.now += 30
    settle(watch, clock)
    assert "cpu.a" in state.series  # within the grace
    clock.now += 31
    settle(watch, clock)
    assert "cpu.a" not in state.series and "cpu.b" in state.series
    assert state.patterns.excluded == {}  # let go, not excluded: it may come back
    watch.link.names.append("cpu.a")
    listing(watch, clock)
    settle(watch, clock)
    assert "cpu.a" in state.series


def test_a_failed_listing_is_tried_again_and_changes_nothing(state, clock):
    run_action(state, "add_pattern", {"pattern": CPU})
    watch = watcher(state, ["cpu.a"])
    watch.link.fail_next = "TimeoutError: SiriDB did not answer"
    listing(watch, clock)
    assert len(state.series) == 0 and watch.sweep is None
    clock.now += pattern_watch.RETRY
    listing(watch, clock)
    settle(watch, clock)
    assert "cpu.a" in state.series


def test_patterns_members_and_exclusions_survive_a_restart(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    run_action(state, "add_pattern", {"pattern": CPU, "template": {"model": "ets"}})
    watch = watcher(state, ["cpu.a", "cpu.b"])
    listing(watch, clock)
    settle(watch, clock)
    run_action(state, "remove_series", {"name": "cpu.b"})
    state.flush()
    state.store.commit()
    again = make_state(tmp_path, clock=clock)
    counted_right(again)
    info = run_action(again, "get_pattern", {"id": 1})
    assert (info["pattern"], info["template"], info["series"], info["excluded"]) == (
        CPU, {"model": "ets"}, 1, 1)


def test_deleting_a_pattern_keeps_its_series(state, clock):
    run_action(state, "add_pattern", {"pattern": CPU})
    watch = watcher(state, ["cpu.a"])
    listing(watch, clock)
    settle(watch, clock)
    assert run_action(state, "remove_pattern", {"id": 1}) == {"id": 1}
    assert "cpu.a" in state.series and state.patterns.members == {}
    assert run_action(state, "list_patterns", {}) == {"patterns": []}


def test_a_template_that_cannot_be_watched_is_refused_at_once(state):
    with pytest.raises(ProtocolError, match="template: unknown model"):
        run_action(state, "add_pattern", {"pattern": CPU, "template": {"model": "nope"}})
    with pytest.raises(ProtocolError, match="template: anomaly"):
        run_action(state, "add_pattern", {"pattern": CPU, "template": {"anomaly": {"k": 9}}})
    assert len(state.patterns) == 0
