"""The reconciler: which series it counts when, and what a count does (a fake SiriDB link)."""

from __future__ import annotations

from actors.hub.siridb_link import NoSiriDB
from actors.hub.state import HubState
from actors.hub.store import Store


class FakeLink(NoSiriDB):
    configured = True

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[tuple[str, str]] = []

    def submit(self, tag: str, query: str) -> None:
        self.submitted.append((tag, query))

    def answer(self, count: int) -> None:
        tag, query = self.submitted.pop(0)
        name = query.split("'", 1)[1].rsplit("'", 1)[0].replace("''", "'")
        self.results.put((tag, {name: [[1, count]]}, None))


def make(tmp_path, now):
    link = FakeLink()
    state = HubState(Store(str(tmp_path)), clock=lambda: now, wall=lambda: now, siridb=link)
    state.settings["reconcile_interval"] = 3600
    return state, link, state.reconciler


def test_a_new_series_is_counted_at_once_even_right_after_boot(tmp_path):
    # time.monotonic() starts near 0 at boot: 10 s is less than one reconcile_interval.
    state, link, reconciler = make(tmp_path, now=10.0)
    state.add_series("it's", None, None, False)  # asks for its count at the next turn
    reconciler.tick(10.0)
    assert link.submitted == [("0", "select count() from 'it''s'")]
    link.answer(300)
    reconciler.drain()
    assert state.series.get("it's").points == 300
    reconciler.tick(11.0)
    assert link.submitted == []  # next count one reconcile_interval later


def test_series_known_at_start_are_counted_at_once(tmp_path):
    state, _, _ = make(tmp_path, now=5.0)
    state.add_series("a", None, None, False)
    state.flush()
    state.store.commit()
    link = FakeLink()
    restarted = HubState(state.store, clock=lambda: 5.0, wall=lambda: 5.0, siridb=link)
    restarted.reconciler.tick(5.0)
    assert [q for _, q in link.submitted] == ["select count() from 'a'"]


def test_a_series_siridb_lacks_is_said_and_its_appearance_too(tmp_path):
    state, link, reconciler = make(tmp_path, now=10.0)
    added = state.add_series("later", None, None, False).detail()
    assert added["in_siridb"] is None and "not looked up" in added["siridb_note"]
    reconciler.tick(10.0)
    tag, _ = link.submitted.pop(0)
    link.results.put((tag, {}, None))  # SiriDB's answer for a series it does not have
    reconciler.drain()
    detail = state.series.get("later").detail()
    assert detail["in_siridb"] is False and "SiriDB has no such series yet" in detail["siridb_note"]
    assert [e["kind"] for e in state.store.recent_events(5)][0] == "series_missing"
    reconciler.tick(12.0)
    assert link.submitted == []  # looked up again MISSING_RECHECK later, not at every turn
    reconciler.tick(15.0)
    link.answer(7)
    reconciler.drain()
    detail = state.series.get("later").detail()
    assert (detail["in_siridb"], detail["siridb_note"], detail["appeared_at"]) == (True, None, 10.0)
    events = state.store.recent_events(5)
    assert events[0]["kind"] == "series_appeared" and "now exists in SiriDB" in events[0]["message"]
    reconciler.tick(21.0)
    assert link.submitted == []  # present: back to once per reconcile_interval


def test_points_counted_by_both_a_count_and_a_late_tee_report_are_drift_only_once(tmp_path):
    # The listener reports every update_interval: a count read before its report of the same
    # points arrives holds them already, and they look missed; the next count takes it back.
    state, link, reconciler = make(tmp_path, now=10.0)
    state.add_series("s", None, None, False)
    state.add_counts({"s": 10})
    reconciler.tick(10.0)
    link.answer(10)
    reconciler.drain()
    assert (state.series.get("s").drift, state.series.get("s").points) == (0, 10)
    reconciler.tick(3610.0)  # asked with 10 counted; SiriDB has 25: 8 the tee lost, 7 on
    link.answer(25)          # their way from the listener
    reconciler.drain()
    state.add_counts({"s": 7})  # the listener's report of those 7
    assert state.series.get("s").drift == 15  # not known yet which are which
    reconciler.tick(7210.0)
    link.answer(25)
    reconciler.drain()
    series = state.series.get("s")
    assert (series.drift, series.points, series.points_counted) == (8, 25, 17)
