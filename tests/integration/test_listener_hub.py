"""Listener and hub as real processes: tee packages become counts at the hub, none lost."""

from __future__ import annotations

import signal
import socket

import pytest

from actors.listener.tee import encode_package
from tests.support.hub import HubProcess, Peer
from tests.support.listener import ListenerProcess
from tests.support.waiting import wait_for


@pytest.fixture
def stack(tmp_path):
    hub = HubProcess(tmp_path).start()
    listener = ListenerProcess(tmp_path, hub.ports["control"]).start()
    yield hub, listener
    listener.stop(signal.SIGKILL)
    hub.stop(signal.SIGKILL)


def points(hub, name):
    with Peer(hub.address("control"), "checker", "client") as peer:
        peer.handshake()
        return peer.api("get_series", name=name).body["data"]["points"]


def listener_online(hub):
    with Peer(hub.address("control"), "checker", "client") as peer:
        peer.handshake()
        clients = peer.api("list_clients").body["data"]["clients"]
        return any(c["client_id"] == "listener-test" and c["online"] for c in clients)


def tee_connect(port):
    return wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1),
                    10, "the listener's tee port")


def test_tee_counts_reach_the_hub_and_survive_a_hub_crash(stack):
    hub, listener = stack
    with Peer(hub.address("control"), "c1", "client") as peer:
        peer.handshake()
        peer.api("add_series", name="cpu/load")
        peer.api("add_series", name="temp", realtime=True)
    wait_for(lambda: listener_online(hub), 10, "the listener to come online")
    tee = tee_connect(listener.tee_port)
    try:
        tee.sendall(encode_package({"cpu/load": [[1, 1], [2, 2], [3, 3]], "other": [[1, 1]]}))
        tee.sendall(encode_package({"temp": [[1, 20.5]]}))
        wait_for(lambda: points(hub, "cpu/load") == 3, 10, "3 points of cpu/load")
        wait_for(lambda: points(hub, "temp") == 1, 10, "1 point of temp")

        ended = listener.log_path.read_text().count("hub session ended")
        hub.stop(signal.SIGKILL)
        tee.sendall(encode_package({"cpu/load": [[4, 4], [5, 5], [6, 6], [7, 7]]}))
        # Away long enough for the listener to give the session up and retry with backoff;
        # points keep arriving meanwhile, for a realtime series too.
        wait_for(lambda: listener.log_path.read_text().count("hub session ended") > ended, 15,
                 "the listener to notice the hub is gone")
        tee.sendall(encode_package({"cpu/load": [[8, 8]], "temp": [[2, 21], [3, 22]]}))
        hub.start()
        wait_for(lambda: points(hub, "cpu/load") == 8, 20, "counts kept while the hub was away")
        wait_for(lambda: points(hub, "temp") == 3, 5, "realtime counts kept too")
    finally:
        tee.close()


def test_malformed_package_closes_only_its_connection(stack):
    hub, listener = stack
    with Peer(hub.address("control"), "c1", "client") as peer:
        peer.handshake()
        peer.api("add_series", name="a")
    wait_for(lambda: listener_online(hub), 10, "the listener to come online")
    good, bad = tee_connect(listener.tee_port), tee_connect(listener.tee_port)
    try:
        bad.sendall(b"\x05\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff")
        bad.settimeout(5)
        assert bad.recv(1) == b""  # the listener closed the bad connection
        good.sendall(encode_package({"a": [[1, 1], [2, 2]]}))
        wait_for(lambda: points(hub, "a") == 2, 10, "counts from the good connection")
    finally:
        good.close()
        bad.close()
    assert listener.proc.poll() is None


def test_a_series_name_with_a_nul_byte_does_not_stop_the_counting(stack):
    # SiriDB accepts a NUL inside a name on insert (its queries are cut there, so Enodo
    # refuses to watch such a series); the tee carries it, and the listener goes on.
    hub, listener = stack
    with Peer(hub.address("control"), "c1", "client") as peer:
        peer.handshake()
        refused = peer.api("add_series", name="a\x00b")
        assert refused.body["code"] == "invalid" and "NUL" in refused.body["message"]
        peer.api("add_series", name="a")
        peer.api("add_series", name="z")
    wait_for(lambda: listener_online(hub), 10, "the listener to come online")
    tee = tee_connect(listener.tee_port)
    try:
        tee.sendall(encode_package({"a\x00b": [[1, 1]], "a": [[1, 1], [2, 2]]}))
        tee.sendall(encode_package({"\x00": [[1, 1]], "a\x00": [[1, 1]]}))
        tee.sendall(encode_package({"a": [[3, 3]]}))
        # Packages of one connection are counted in order: once z's point is in, so is
        # everything before it.
        tee.sendall(encode_package({"z": [[1, 1]]}))
        wait_for(lambda: points(hub, "z") == 1, 10, "the point of z")
        assert points(hub, "a") == 3
    finally:
        tee.close()
    assert listener.proc.poll() is None
