"""Patterns as SiriDB reads them, the template's shape, the listing's paging, the tee's matches."""

from __future__ import annotations

import msgspec
import pytest

from actors.hub.pattern_listing import Sweep, split_key
from actors.listener.counter import PointCounter
from actors.listener.discovery import Discovery
from actors.listener.tee import HEADER, encode_package, raw_name
from protocol.bodies import AddSerie
from protocol.errors import ProtocolError
from protocol.patterns import NewPattern, SeriesTemplate, compile_pattern, matches
from protocol.typed import convert
from tests.support.fake_listing import FakeListingLink


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("/cpu\\..*/", "cpu.load", True),
    ("/cpu/", "cpu.load", False),             # the whole name must match
    ("/load/", "cpu.load", False),
    ("/.*load/", "cpu.load", True),
    ("/cpu.*/", "CPU.upper", False),
    ("/cpu.*/i", "CPU.upper", True),          # a trailing i: any case
    ("/mem|cpu/", "mem.free", True),          # ^mem|cpu$: SiriDB adds no group
    ("/mem|cpu/", "xcpu", True),
    ("/mem|cpu/", "cpu.load", False),
    ("/a\\/b.*/", "a/b/c", True),             # an escaped slash
    ("/pg\\..{2}/", "pg.ü", True),            # on UTF-8 bytes: ü is two
    ("/dot\\.\\*star/", "dot.*star", True),
])
def test_patterns_match_as_siridb_selects(pattern, name, expected):
    assert matches(compile_pattern(pattern), name) is expected


@pytest.mark.parametrize(("pattern", "problem"), [
    ("cpu.*", "must be a SiriDB regex"),
    ("/cpu/x", "must be a SiriDB regex"),
    ("/a/b/", "must be a SiriDB regex"),      # an unescaped slash ends the regex
    ("//", "must not be empty"),
    ("/(/", "does not compile"),
    ("/a\x00/", "must not contain NUL"),
])
def test_bad_patterns_are_refused_with_the_reason(pattern, problem):
    with pytest.raises(ValueError, match=problem):
        compile_pattern(pattern)
    with pytest.raises(ProtocolError, match=problem):
        convert({"pattern": pattern}, NewPattern, "body")


def test_the_template_is_the_add_series_body_without_its_name():
    template = {f.name: f.type for f in msgspec.structs.fields(SeriesTemplate)}
    body = {f.name: f.type for f in msgspec.structs.fields(AddSerie) if f.name != "name"}
    assert template == body
    typed = convert({"pattern": "/x.*/", "template": {"model": "ets", "realtime": True}},
                    NewPattern, "body")
    assert typed.template.to_dict() == {"model": "ets", "realtime": True}
    with pytest.raises(ProtocolError, match="unexpected key 'template.name'"):
        convert({"pattern": "/x.*/", "template": {"name": "x"}}, NewPattern, "body")


def test_split_key_is_the_shortest_bound_between_two_names():
    assert split_key("cpu.0999", "cpu.1000") == "cpu.1"
    assert split_key("a", "b") == "b"
    assert split_key("ab", "abc") == "abc"
    assert "cpu.0999" < split_key("cpu.0999", "cpu.1000") <= "cpu.1000"


@pytest.mark.parametrize("limit", [1, 3, 10, 64, 10_000])
def test_a_sweep_lists_every_match_in_pages_of_the_limit(limit):
    names = [f"cpu.{i}" for i in range(200)] + ["mem.0", "cpu"]
    link = FakeListingLink(names[::-1], list_limit=limit)
    sweep = Sweep(1, "/cpu\\..*/", limit)
    while (query := sweep.next_query()) is not None:
        sweep.on_reply(link.answer(query))
    assert sweep.done and sweep.found == set(names[:200])
    assert all(f"limit {limit}" in q for q in link.queries) or not link.queries


def test_a_reply_that_is_not_a_listing_is_refused():
    sweep = Sweep(1, "/x.*/", 10)
    sweep.next_query()
    with pytest.raises(ValueError, match="unexpected list series reply"):
        sweep.on_reply({"error_msg": "nope"})


def test_discovery_reports_a_matching_unwatched_name_once():
    found = Discovery()
    found.replace(["/cpu\\..*/"])
    found.on_names({raw_name("cpu.a"), raw_name("mem.a")})
    found.on_names({raw_name("cpu.a"), raw_name("cpu.b")})
    assert sorted(found.take()) == ["cpu.a", "cpu.b"]
    found.on_names({raw_name("cpu.a")})
    assert found.take() == []


def test_discovery_memory_is_bounded_and_new_patterns_clear_it():
    found = Discovery(memory=100)
    found.replace(["/keep.*/"])
    found.on_names({raw_name(f"other.{i}") for i in range(1000)})
    assert len(found.seen) == 100 and len(found._order) == 100
    found.replace(["/other\\.1/"])
    found.on_names({raw_name("other.1"), b"\xff\xfe\x00", 42})
    assert found.take() == ["other.1"]


def test_the_counter_hands_unwatched_names_to_discovery_only_when_asked():
    found = Discovery()
    counter = PointCounter(found)
    counter.watch("cpu.a")
    body = encode_package({"cpu.a": [[1, 1]], "cpu.new": [[1, 2]] * 3})[HEADER.size:]
    assert counter.count_watched(body) == {raw_name("cpu.a"): 1}
    assert found.seen == set()  # no patterns: the names are not even looked at
    found.replace(["/cpu\\..*/"])
    assert counter.count_watched(body) == {raw_name("cpu.a"): 1}
    assert found.take() == ["cpu.new"]
