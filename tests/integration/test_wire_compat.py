"""A peer built from the commit before the typed protocol still talks to today's hub.

tests/data/wire_v1.json holds the raw frames that code sent (a listener, a worker, a
client, the REST API; valid requests and refused ones) and what its hub answered. They
are replayed byte for byte to a real hub process; every answer must be the recorded one:
same type, same JSON body (ids and clocks aside), same error codes and messages.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import zmq

from tests.support.hub import HubProcess
from tests.support.wire_v1 import exchange, sockets

RECORDED = Path(__file__).resolve().parents[1] / "data" / "wire_v1.json"


@pytest.fixture
def hub(tmp_path):
    recorded = json.loads(RECORDED.read_text())
    hub = HubProcess(tmp_path, extra={"ENODO_HUB_TOKEN": recorded["token"]}).start()
    yield hub
    hub.stop(signal.SIGKILL)


def kept(recorded: Any, got: Any) -> bool:
    """Whether got says all that recorded said, the same way: an object may carry keys added
    since (new keys are compatible: e.g. a setting added to get_settings' answer), but no
    recorded key may be missing or changed, and lists keep their length and order."""
    if isinstance(recorded, dict):
        return isinstance(got, dict) and all(
            key in got and kept(value, got[key]) for key, value in recorded.items())
    if isinstance(recorded, list):
        return isinstance(got, list) and len(got) == len(recorded) and all(
            kept(r, g) for r, g in zip(recorded, got, strict=True))
    return recorded == got


def test_recorded_v1_frames_get_the_recorded_answers(hub):
    steps = json.loads(RECORDED.read_text())["steps"]
    ctx = zmq.Context()
    socks = sockets(ctx, hub.address("control"), hub.address("api"))
    try:
        for step in steps:
            frames = [frame.encode() for frame in step["frames"]]
            got = exchange(socks[step["peer"]], frames, step["peer"], step["type"], step["id"])
            assert kept(step["answers"], got), (step["peer"], step["type"], step["id"], got)
    finally:
        for sock in socks.values():
            sock.close()
        ctx.term()
    assert len(steps) > 30  # the whole conversation ran
