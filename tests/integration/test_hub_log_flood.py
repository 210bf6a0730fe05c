"""A flood of malformed messages writes a few warnings and a count, not one line each."""

from __future__ import annotations

import re
import signal

import pytest
import zmq

from protocol.types import MessageType
from tests.support.hub import HubProcess, Peer
from tests.support.waiting import wait_for

FLOOD = 3000


@pytest.fixture
def hub(tmp_path):
    process = HubProcess(tmp_path, extra={
        "ENODO_HUB_LOG_REPEAT_BURST": "5", "ENODO_HUB_LOG_REPEAT_WINDOW": "2",
    }).start()
    yield process
    process.stop(signal.SIGKILL)


def test_garbage_flood_is_counted_not_written(hub):
    raw = zmq.Context.instance().socket(zmq.DEALER)
    raw.setsockopt(zmq.LINGER, 0)
    raw.connect(hub.address("control"))
    try:
        for n in range(FLOOD):
            raw.send_multipart([b"garbage %d" % n])
        answered = 0
        while answered < FLOOD and raw.poll(5000):
            raw.recv_multipart()
            answered += 1
        assert answered == FLOOD  # every message still gets its error reply
    finally:
        raw.close(linger=0)

    def summed() -> int:
        text = hub.log_path.read_text()
        return sum(int(n) for n in re.findall(r"(\d+) similar (?:to .* )?suppressed", text))

    # The window ends 2 s after the first line; the hub's sweep writes the count.
    wait_for(lambda: summed() > 0, 10, "the count of suppressed warnings")
    log = hub.log_path.read_text()
    written = log.count("actors.hub.server: bad message from")
    assert written <= 5 * 3, written  # a burst per window; the flood takes a window or two
    assert written + summed() == FLOOD, (written, summed())
    with Peer(hub.address("control"), "c1", "client") as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK
