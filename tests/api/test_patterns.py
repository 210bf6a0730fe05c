"""/patterns over the hub's real actions: add (201), list, read, its series, delete; bad input."""

from __future__ import annotations

from actors.hub.pattern_watch import PatternWatcher
from tests.api.checks import assert_error
from tests.support.fake_listing import FakeListingLink

CPU = "/cpu\\..*/"


def add(client, pattern=CPU, **extra):
    return client.simulate_post("/patterns", json={"pattern": pattern, **extra})


def test_add_answers_201_with_the_pattern_and_its_location(client, hub):
    result = add(client, template={"model": "ets", "realtime": True})
    assert result.status_code == 201
    assert result.json["id"] == 1 and result.json["pattern"] == CPU
    assert result.json["template"] == {"model": "ets", "realtime": True}
    assert result.headers["location"] == "/patterns/1"
    assert hub.calls[-1] == ("add_pattern", {"pattern": CPU,
                                             "template": {"model": "ets", "realtime": True}})


def test_the_template_is_optional(client):
    result = add(client)
    assert result.status_code == 201
    assert result.json["template"] == {}


def test_list_and_get(client):
    add(client)
    add(client, "/mem.*/i")
    listed = client.simulate_get("/patterns").json["patterns"]
    assert [p["pattern"] for p in listed] == [CPU, "/mem.*/i"]
    assert client.simulate_get("/patterns/2").json["pattern"] == "/mem.*/i"


def test_series_found_are_listed_by_page(client, hub):
    add(client, template={"model": "theta"})
    watch = PatternWatcher(hub.state, FakeListingLink([f"cpu.{i}" for i in range(5)]))
    watch.tick(hub.state.clock())
    while watch.waiting is not None:
        watch.drain()
    while hub.state.patterns.pending:
        watch.tick(hub.state.clock())
    assert client.simulate_get("/series/cpu.3").json["model"] == "theta"
    page = client.simulate_get("/patterns/1/series", params={"offset": 1, "limit": 2}).json
    assert (page["total"], page["next_offset"]) == (5, 3)
    assert [(s["name"], s["state"]) for s in page["series"]] == [
        ("cpu.1", "watched"), ("cpu.2", "watched")]
    assert client.simulate_get("/patterns/1").json["series"] == 5


def test_delete(client):
    add(client)
    result = client.simulate_delete("/patterns/1")
    assert result.status_code == 200 and result.json == {"id": 1}
    assert client.simulate_get("/patterns").json == {"patterns": []}
    assert_error(client.simulate_delete("/patterns/1"), 404, "not_found")


def test_bad_bodies_are_refused_and_change_nothing(client, hub):
    for body, words in [
        ({"pattern": "cpu.*"}, "must be a SiriDB regex"),
        ({"pattern": "/(/"}, "does not compile"),
        ({"pattern": CPU, "template": {"name": "x"}}, "unexpected key 'template.name'"),
        ({"pattern": CPU, "template": {"model": "nope"}}, "unknown model"),
        ({"pattern": CPU, "template": {"anomaly": {"direction": "up"}}}, "direction"),
        ({"pattern": CPU, "extra": 1}, "unexpected key 'extra'"),
        ({}, "missing key 'pattern'"),
    ]:
        result = client.simulate_post("/patterns", json=body)
        assert_error(result, 400, "invalid")
        assert words in result.json["error"]["message"], (body, result.json)
    assert len(hub.state.patterns) == 0


def test_a_pattern_twice_is_a_conflict(client):
    add(client)
    assert_error(add(client), 409, "conflict")


def test_unknown_and_malformed_ids(client):
    assert_error(client.simulate_get("/patterns/7"), 404, "not_found")
    assert_error(client.simulate_get("/patterns/7/series"), 404, "not_found")
    assert client.simulate_get("/patterns/x").status_code == 404
    add(client)
    assert_error(client.simulate_get("/patterns/1/series", params={"limit": 0}), 400, "invalid")
