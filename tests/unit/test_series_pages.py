"""The paging logic of the series list (actors/hub/series_pages.py) on plain names."""

from __future__ import annotations

import random

import pytest

from actors.hub.series_pages import NameIndex, SeriesFilter, offset_page, page
from protocol.jobs import JobKind

NAMES = ["b/2", "a", "b/1", "ab", "b/10", "c*", "é", "b", "b/1x"]


class Named:
    def __init__(self, name: str, model: str = "arima", state: str = "none") -> None:
        self.name, self.model = name, model
        self.jobs = {kind.value: {"state": state if kind is JobKind.FIT else "none"}
                     for kind in JobKind}


def index_of(names):
    return NameIndex(names), {n: Named(n) for n in names}.get


def walk(index, get, where, limit):
    seen, after, totals = [], None, set()
    while True:
        found = page(index, get, where, after, limit)
        seen += found["names"]
        totals.add(found["total"])
        after = found["next"]
        if after is None:
            return seen, totals


def test_index_keeps_code_point_order_through_adds_and_removes():
    index = NameIndex(NAMES)
    assert index.names == sorted(NAMES)
    index.add("b/0")
    index.remove("a")
    index.remove("not there")
    assert index.names == sorted({*NAMES, "b/0"} - {"a"})


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
def test_every_page_size_walks_all_names_once(limit):
    index, get = index_of(NAMES)
    seen, totals = walk(index, get, SeriesFilter(), limit)
    assert seen == sorted(NAMES) and totals == {len(NAMES)}


@pytest.mark.parametrize(("pattern", "expected"), [
    ("b/*", ["b/1", "b/10", "b/1x", "b/2"]),
    ("b/1?", ["b/10", "b/1x"]),
    ("*1*", ["b/1", "b/10", "b/1x"]),
    ("[ab]", ["a", "b"]),
    ("[!ab]*", ["c*", "é"]),
    ("b", ["b"]),
    ("zz", []),
    ("c[*]", ["c*"]),
])
def test_glob_matches_whole_names(pattern, expected):
    index, get = index_of(NAMES)
    for limit in (1, 2, 50):
        seen, totals = walk(index, get, SeriesFilter(pattern=pattern), limit)
        assert seen == expected and totals == {len(expected)}


def test_prefix_span_is_exact():
    index = NameIndex(NAMES)
    lo, hi = index.span("b/1")
    assert index.names[lo:hi] == ["b/1", "b/10", "b/1x"]
    assert index.span("") == (0, len(NAMES))


def test_state_and_model_filters():
    index = NameIndex(["x1", "x2", "x3", "y1"])
    series = {"x1": Named("x1", state="failed"), "x2": Named("x2", "prophet", "failed"),
              "x3": Named("x3"), "y1": Named("y1", "prophet")}
    get = series.get
    assert walk(index, get, SeriesFilter(state="failed"), 1)[0] == ["x1", "x2"]
    assert walk(index, get, SeriesFilter(state="failed", job="train"), 1)[0] == []
    assert walk(index, get, SeriesFilter(model="prophet", pattern="*1"), 5)[0] == ["y1"]


def test_cursor_past_the_end_and_before_the_start():
    index, get = index_of(NAMES)
    assert page(index, get, SeriesFilter(), "\uffff", 5) == {"names": [], "total": 9, "next": None}
    assert page(index, get, SeriesFilter(), "", 2)["names"] == ["a", "ab"]


def test_offset_pages_in_both_orders_match_a_sort():
    rng = random.Random(5)
    names = [f"n{rng.randrange(10**6)}" for _ in range(300)]
    index = NameIndex(names)
    ordered = sorted(set(names))
    for desc in (False, True):
        want = ordered[::-1] if desc else ordered
        for offset in (0, 7, 290, 400):
            got, total = offset_page(index, None, offset, 20, desc)
            assert got == want[offset:offset + 20] and total == len(ordered)
    got, total = offset_page(index, lambda n: n.endswith("7"), 0, 1000, True)
    assert got == [n for n in ordered[::-1] if n.endswith("7")] and total == len(got)


def test_a_filter_over_more_names_than_the_budget_pages_on_without_a_total(monkeypatch):
    monkeypatch.setattr("actors.hub.series_pages.SCAN_BUDGET", 10)
    names = [f"n{i:03d}" for i in range(95)]
    index, get = index_of(names)
    where = SeriesFilter(pattern="*7")
    first = page(index, get, where, None, 5)
    assert first == {"names": ["n007"], "total": None, "next": "n009"}  # 10 looked at
    seen, totals = walk(index, get, where, 5)
    assert seen == [n for n in names if n.endswith("7")] and totals == {None}
    full = page(index, get, SeriesFilter(pattern="*"), None, 3)  # a match every name
    assert full == {"names": ["n000", "n001", "n002"], "total": None, "next": "n002"}
    small = page(index, get, SeriesFilter(pattern="n00*7"), None, 5)  # prefix range: 10
    assert small == {"names": ["n007"], "total": 1, "next": None}
