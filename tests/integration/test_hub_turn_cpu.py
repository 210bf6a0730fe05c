"""The hub's metrics time each loop turn twice: its seconds and its loop thread's CPU."""

from __future__ import annotations

import re
import urllib.request

from tests.support.hub import HubProcess, Peer
from tests.support.waiting import free_port, wait_for


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {name: float(value) for name, value in
            re.findall(r"^(enodo_hub_loop_turn_\w+_(?:count|sum)) (\S+)$", text, re.M)}


def test_every_turn_is_timed_in_seconds_and_in_cpu(tmp_path):
    port = free_port()
    hub = HubProcess(tmp_path, {"ENODO_HUB_METRICS_PORT": str(port)}).start()
    try:
        with Peer(hub.address("control"), "turns", "client") as peer:
            peer.handshake()
            for i in range(20):
                peer.api("add_series", name=f"turn.{i}")
        figures = wait_for(lambda: (f := scrape(port))["enodo_hub_loop_turn_cpu_seconds_count"]
                           >= 20 and f, 10, "20 turns counted")
        # Both observed by the same turn; a scrape between the two sees them one apart.
        assert abs(figures["enodo_hub_loop_turn_cpu_seconds_count"]
                   - figures["enodo_hub_loop_turn_seconds_count"]) <= 1
        # A thread's CPU in a turn never exceeds the turn's wall time (a little slack for
        # the two clocks' resolutions).
        cpu, wall = (figures["enodo_hub_loop_turn_cpu_seconds_sum"],
                     figures["enodo_hub_loop_turn_seconds_sum"])
        assert 0 < cpu <= wall * 1.05 + 0.001
    finally:
        hub.stop()
