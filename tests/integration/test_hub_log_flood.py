"""A flood of malformed messages writes a few warnings and a count, not one line each."""

from __future__ import annotations

import re
import signal

import pytest

from protocol.envelope import Codec, Message
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
    # From a handshaken peer: one that has not handshaken gets a few messages read at all
    # (actors/hub/gate.py), this one gets every message read and answered.
    with Peer(hub.address("control"), "garbler", "client") as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK
        raw = peer.channel.socket
        beat = peer.channel.codec.encode(Message(MessageType.HEARTBEAT, {}))
        for n in range(FLOOD):
            raw.send_multipart([b"garbage %d" % n])
            if n % 100 == 0:
                raw.send_multipart(beat)  # stay known to the hub while flooding
        answered = 0
        while answered < FLOOD and raw.poll(5000):
            frames = raw.recv_multipart()
            answered += Codec("t").decode(frames).type is MessageType.ERROR
        assert answered == FLOOD  # every message still gets its error reply

    def summed() -> int:
        # Only the counts of this kind: another kind's count (a heartbeat, a peer) may be in
        # the log too, in either form (a line of its own, or appended to the next line).
        return sum(int(n) for line in hub.log_path.read_text().splitlines()
                   if "bad message from" in line
                   for n in re.findall(r"(\d+) similar (?:to .* )?suppressed", line))

    # The window ends 2 s after the first line; the hub's sweep writes the count.
    wait_for(lambda: summed() > 0, 10, "the count of suppressed warnings")
    log = hub.log_path.read_text()
    written = log.count("actors.hub.server: bad message from")
    assert written <= 5 * 3, written  # a burst per window; the flood takes a window or two
    assert written + summed() == FLOOD, (written, summed())
    with Peer(hub.address("control"), "c1", "client") as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK
