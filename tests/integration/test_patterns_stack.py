"""Watch by pattern with real processes: the development SiriDB, a hub and a listener.

A series that exists before its pattern is found by the hub's listing of SiriDB; a new
one is seen by the listener in the tee and reported; both are watched with the pattern's
template. One removed by hand is not added again; one SiriDB drops is let go after the
grace period.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from siridb.connector import SiriDBClient

from tests.support.stack import Stack
from tests.support.waiting import wait_for

TEMPLATE = {"model": "ets", "anomaly": {"k": 2, "n": 3}}


def siridb(port: int, query: str | None = None, insert: dict | None = None):
    async def run():
        client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)])
        await client.connect()
        try:
            return await (client.query(query) if query else client.insert(insert))
        finally:
            client.close()

    return asyncio.run(asyncio.wait_for(run(), 20))


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=0, listener=True)
    try:
        stack.start()
        yield stack
    finally:
        stack.close()


def test_series_are_watched_by_pattern_from_the_listing_and_the_tee(stack):
    db, hub = stack.db, stack.client
    watched = lambda: {s["name"] for s in hub.call("list_series")["series"]}  # noqa: E731
    # No listing but the first one of a new pattern: what comes later comes through the tee.
    hub.call("set_settings", settings={"pattern_list_interval": 3600, "pattern_grace": 3})
    # Before the pattern (this insert also opens the tee, so it is not forwarded).
    siridb(db.port, insert={"cpu.old": [[1000, 1]], "mem.other": [[1000, 1]]})

    # The client's bulk add: it prints progress until SiriDB's listing is watched.
    added = subprocess.run(
        [sys.executable, "-m", "scripts.client", "--hub", stack.hub.address("control"),
         "--token", stack.hub.token, "--client-id", "bulk", "pattern-add", "/cpu\\..*/",
         "--model", "ets", "--anomaly", "k=2", "--anomaly", "n=3", "--wait"],
        capture_output=True, text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    assert "1 watched, 0 waiting, 0 excluded; SiriDB listed: 1" in added.stderr
    pattern = hub.call("list_patterns")["patterns"][0]
    assert pattern["template"] == TEMPLATE
    assert "cpu.old" in watched()  # found by the hub's listing
    old = hub.series("cpu.old")
    assert (old["model"], old["anomaly"]["k"], old["anomaly"]["n"]) == ("ets", 2, 3)
    wait_for(lambda: "matching the tee with 1 pattern" in stack.listener.log_path.read_text(),
             10, "the listener to get the pattern")

    def tee_brings_it() -> bool:
        siridb(db.port, insert={"cpu.new": [[2000, 2]], "mem.new": [[2000, 2]]})
        return "cpu.new" in watched()

    wait_for(tee_brings_it, 20, "cpu.new seen in the tee and watched")
    assert hub.series("cpu.new")["model"] == "ets"
    assert "mem.new" not in watched() and "mem.other" not in watched()
    assert hub.call("get_pattern", id=pattern["id"])["listed"] == 1  # only cpu.old was listed

    # Removed by hand: excluded, not added again by the tee nor by the listing.
    hub.call("remove_series", name="cpu.new")
    siridb(db.port, "drop series 'cpu.old' set ignore_threshold true")
    siridb(db.port, insert={"cpu.new": [[3000, 3]]})
    first = hub.call("get_pattern", id=pattern["id"])["listed_at"]
    hub.call("set_settings", settings={"pattern_list_interval": 1})
    wait_for(lambda: (hub.call("get_pattern", id=pattern["id"])["listed_at"] or 0) > first,
             20, "a listing after the changes")
    assert "cpu.new" not in watched()
    rows = hub.call("pattern_series", id=pattern["id"])["series"]
    assert {(r["name"], r["state"]) for r in rows} == {
        ("cpu.new", "excluded"), ("cpu.old", "missing")}

    # Dropped from SiriDB: let go once the grace (3 s) is over.
    wait_for(lambda: "cpu.old" not in watched(), 20, "cpu.old let go after the grace period")
    assert hub.call("pattern_series", id=pattern["id"])["series"] == [
        {"name": "cpu.new", "state": "excluded", "since": rows[0]["since"]}]
    events = [e["kind"] for e in hub.call("event_log", limit=50)["events"]]
    assert "pattern_released" in events
