"""enodo-client's pattern commands: what each sends, how the bulk add shows its progress."""

from __future__ import annotations

from scripts.client import build_parser
from scripts.client_commands import action_of, render
from scripts.client_patterns import follow_pattern


def sent(*argv):
    return action_of(build_parser().parse_args(list(argv)))


def test_pattern_add_sends_the_pattern_and_its_template():
    assert sent("pattern-add", "/cpu\\..*/") == ("add_pattern", {"pattern": "/cpu\\..*/"})
    assert sent("pattern-add", "/cpu.*/i", "--model", "ets", "--anomaly", "k=2",
                "--param", "period=24", "--realtime") == (
        "add_pattern", {"pattern": "/cpu.*/i", "template": {
            "model": "ets", "model_parameters": {"period": 24}, "anomaly": {"k": 2},
            "realtime": True}})


def test_the_other_pattern_commands():
    assert sent("patterns") == ("list_patterns", None)
    assert sent("pattern-show", "3") == ("get_pattern", {"id": 3})
    assert sent("pattern-remove", "3") == ("remove_pattern", {"id": 3})
    assert sent("pattern-series", "3", "--offset", "10", "--limit", "5") == (
        "pattern_series", {"id": 3, "offset": 10, "limit": 5})
    page = {"id": 3, "total": 3, "offset": 0, "limit": 2, "next_offset": 2, "series": [
        {"name": "cpu.a", "state": "watched", "since": None},
        {"name": "cpu.b", "state": "excluded", "since": 5.0}]}
    assert render("pattern-series", page) == (
        "watched   cpu.a\nexcluded  cpu.b\n(3 in all; next page: --offset 2)")


def test_the_bulk_add_prints_each_change_until_all_is_watched():
    base = {"id": 1, "pattern": "/cpu.*/", "excluded": 0}
    answers = iter([
        {**base, "series": 0, "pending": 0, "listed_at": None, "listed": None},
        {**base, "series": 0, "pending": 0, "listed_at": None, "listed": None},
        {**base, "series": 500, "pending": 99500, "listed_at": 5.0, "listed": 100000},
        {**base, "series": 100000, "pending": 0, "listed_at": 5.0, "listed": 100000},
    ])
    lines, naps = [], []
    info = follow_pattern(lambda action, params: next(answers), 1, lines.append, naps.append)
    assert info["series"] == 100000
    assert lines == [
        "pattern 1 /cpu.*/: 0 watched, 0 waiting, 0 excluded; SiriDB listed: not yet",
        "pattern 1 /cpu.*/: 500 watched, 99500 waiting, 0 excluded; SiriDB listed: 100000",
        "pattern 1 /cpu.*/: 100000 watched, 0 waiting, 0 excluded; SiriDB listed: 100000",
    ]
    assert len(naps) == 3
