"""A peer built from the commit before the typed protocol still talks to today's hub.

tests/data/wire_v1.json holds the raw frames that code sent (a listener, a worker, a
client, the REST API; valid requests and refused ones) and what its hub answered. They
are replayed byte for byte to a real hub process; every answer must be the recorded one:
same type, same JSON body (ids and clocks aside), same error codes and messages. An
answer may carry keys the recording lacks (new keys are compatible: an old peer ignores
them, e.g. list_series's total and next); every recorded key must be there, unchanged.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

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


def holds(got: object, recorded: object) -> bool:
    """got says all that recorded says: equal, save for keys objects gained, and save for
    the list in brackets an error's message may end with (what the model catalogue offers
    today, e.g. the parameters of a model, which grows as models gain parameters)."""
    if isinstance(recorded, dict) and set(recorded) == {"code", "message"}:
        return (isinstance(got, dict) and got.get("code") == recorded["code"]
                and isinstance(got.get("message"), str)
                and got["message"].split(" (")[0] == recorded["message"].split(" (")[0])
    if isinstance(recorded, dict):
        return isinstance(got, dict) and all(
            key in got and holds(got[key], value) for key, value in recorded.items())
    if isinstance(recorded, list):
        return (isinstance(got, list) and len(got) == len(recorded)
                and all(holds(g, r) for g, r in zip(got, recorded, strict=True)))
    return got == recorded and type(got) is type(recorded)


def test_holds_allows_only_new_keys():
    assert holds({"a": [1, {"b": 2, "new": 3}], "n": None}, {"a": [1, {"b": 2}], "n": None})
    assert not holds({"a": [1]}, {"a": [1, 2]})
    assert not holds({"a": 1.0}, {"a": 1})
    assert not holds({"b": 1}, {"a": 1, "b": 1})
    error = {"code": "invalid", "message": "unknown parameter 'x' (a, b)"}
    assert holds({**error, "message": "unknown parameter 'x' (a, b, c)"}, error)
    assert not holds({**error, "message": "unknown parameter 'y' (a, b)"}, error)
    assert not holds({**error, "code": "not_found"}, error)


def test_recorded_v1_frames_get_the_recorded_answers(hub):
    steps = json.loads(RECORDED.read_text())["steps"]
    ctx = zmq.Context()
    socks = sockets(ctx, hub.address("control"), hub.address("api"))
    try:
        for step in steps:
            frames = [frame.encode() for frame in step["frames"]]
            got = exchange(socks[step["peer"]], frames, step["peer"], step["type"], step["id"])
            assert holds(got, step["answers"]), (step["peer"], step["type"], step["id"], got)
    finally:
        for sock in socks.values():
            sock.close()
        ctx.term()
    assert len(steps) > 30  # the whole conversation ran
