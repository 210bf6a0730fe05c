"""1,000 connections that never handshake: the hub's memory comes back, real peers stay.

Every flooding connection (a DEALER on loopback that never reads) sends a message of
FLOOD_SIZE bytes of garbage, a HANDSHAKE with a wrong token and a burst of heartbeats
nobody asked for; a few send messages over the control socket's limit. Meanwhile a
listener, a worker and a heartbeating client stay connected to the same control socket.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from multiprocessing.synchronize import Event

import pytest
import zmq

from protocol.envelope import Codec, Message
from protocol.types import MessageType
from tests.support.live_peer import LivePeer, api_status
from tests.support.stack import Stack
from tests.support.waiting import wait_for

CONNECTIONS = 1000
FLOOD_SIZE = 600 * 1024
BURST = 20
#: RSS the hub may keep once the flood is over, above what it had before (MB).
KEPT_MB = 48


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class PeakRss(threading.Thread):
    """Samples a process's RSS every 50 ms; `peak` is the highest seen."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss_mb(self.pid))


class QuietCpu:
    """True once a process used under 10 ms of CPU in the last 300 ms (call it repeatedly)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.last: tuple[float, float] | None = None

    def cpu(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __call__(self) -> bool:
        now, cpu = time.monotonic(), self.cpu()
        if self.last is None or now - self.last[0] < 0.3:
            self.last = self.last or (now, cpu)
            return False
        quiet = cpu - self.last[1] < 0.01
        self.last = (now, cpu)
        return quiet


def flood(address: str, sent: Event, close: Event) -> None:
    """Open CONNECTIONS sockets, send each one's share, keep them open until close is set.

    Run in a process of its own: a flooding user is another process, and the test's
    heartbeating client must not wait for this one's GIL.
    """
    ctx = zmq.Context()
    codec = Codec("flood")
    garbage = [b"ENODO/1", b"", os.urandom(FLOOD_SIZE), b"{}"]
    handshake = codec.encode(Message(MessageType.HANDSHAKE, {
        "client_id": "intruder", "client_type": "worker", "version": "x", "protocol": 1,
        "token": "wrong",
    }))
    heartbeat = codec.encode(Message(MessageType.HEARTBEAT, {}))
    socks = []
    for n in range(CONNECTIONS):
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, BURST + 4)
        sock.connect(address)
        socks.append(sock)
        parts = [garbage, handshake] + [heartbeat] * BURST
        if n % 100 == 0:
            parts.insert(0, [b"ENODO/1", b"", b"x" * (2 * 1024 * 1024), b"{}"])  # over the limit
        for frames in parts:
            try:
                sock.send_multipart(frames, zmq.NOBLOCK)
            except zmq.Again:
                break
    sent.set()
    close.wait(120)
    for sock in socks:
        sock.close(linger=0)
    ctx.term()


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=1, listener=True,
                  hub_env={"ENODO_HUB_HEARTBEAT_INTERVAL": "1.0", "ENODO_HUB_LOG_LEVEL": "INFO"})
    try:
        yield stack.start()
    finally:
        stack.close()


def test_a_flood_of_unauthenticated_connections(stack):
    hub = stack.hub
    pid = hub.proc.pid
    with LivePeer(hub.address("control"), "live-client") as client:
        before = rss_mb(pid)
        sampler = PeakRss(pid)
        sampler.start()
        started = time.monotonic()
        spawn = multiprocessing.get_context("spawn")
        sent, close = spawn.Event(), spawn.Event()
        flooder = spawn.Process(target=flood, args=(hub.address("control"), sent, close))
        flooder.start()
        try:
            assert sent.wait(60), "the flood was not sent within 60 s"
            # The flood is over once the hub has read it: its CPU falls quiet (bounded).
            wait_for(QuietCpu(pid), 60, "the hub to have read the flood")
            took = time.monotonic() - started
        finally:
            close.set()
            flooder.join(30)
        # A real peer still connected: what the hub counts, and what the client heard.
        status, _ = api_status(hub.address("api"), hub.token)
        assert status["peers"]["worker"] == 1 and status["peers"]["listener"] == 1
        assert client.forgotten == 0, "the hub forgot the heartbeating client"
        assert client.longest_silence < 3.0  # the hub's liveness x heartbeat_interval (defaults)
        after = wait_for(lambda: (r := rss_mb(pid)) <= before + KEPT_MB and r, 30,
                         f"the hub's RSS back within {KEPT_MB} MB of {before:.0f} MB")
        sampler.done.set()
    client_closed_at = time.time()
    print(f"flood of {CONNECTIONS} connections ({FLOOD_SIZE // 1024} KB + {BURST + 1} small "
          f"each) read in {took:.1f} s: hub RSS {before:.0f} MB before, peak "
          f"{sampler.peak:.0f} MB, {after:.0f} MB after; client's longest silence "
          f"{client.longest_silence:.2f} s")
    # The test's own client does not heartbeat, so it was forgotten; its new handshake
    # competes with what is left of the flood for the unknown peers' budget: retried.
    events = wait_for(lambda: stack.client.call("event_log", limit=1000)["events"], 30,
                      "the event log")
    ours = ["live-client", "listener-test", *(w.worker_id for w in stack.workers)]
    # Until the live client stopped heartbeating (it is dropped some seconds after).
    offline = [e["message"] for e in events
               if e["kind"] == "client_offline" and e["ts"] < client_closed_at]
    assert not [m for m in offline if any(f" {name} " in m for name in ours)], offline
    # The log keeps its history: a burst of each kind of warning, then counts.
    lines = hub.log_path.read_text().splitlines()
    assert sum("handshake of 'intruder' refused" in line for line in lines) <= 10
    assert sum("dropped a message from a peer" in line and "similar" not in line
               for line in lines) <= 3 * 10  # three reasons
