"""A real hub process: handshakes, API actions, bad frames, restart and crash recovery."""

from __future__ import annotations

import signal

import pytest
import zmq

from protocol.envelope import Codec, Message
from protocol.transport import Channel, make_socket
from protocol.types import MessageType
from tests.support.hub import HubProcess, Peer


@pytest.fixture
def hub(tmp_path):
    process = HubProcess(tmp_path).start()
    yield process
    process.stop(signal.SIGKILL)


def test_series_and_settings_survive_sigterm_and_sigkill(hub):
    with Peer(hub.address("control"), "c1", "client") as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK
        added = peer.api("add_series", name="disk/used 'sda'", model="prophet")
        assert added.type is MessageType.RESPONSE_OK
        assert peer.api("set_settings", settings={"horizon": 7}).type is MessageType.RESPONSE_OK
    for sig in (signal.SIGTERM, signal.SIGKILL):
        code = hub.stop(sig)
        assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
        hub.start()
        with Peer(hub.address("control"), "c1", "client") as peer:
            peer.handshake()
            series = peer.api("list_series").body["data"]["series"]
            assert [s["name"] for s in series] == ["disk/used 'sda'"]
            assert peer.api("get_settings").body["data"]["horizon"] == 7


def test_listener_gets_watch_list_and_changes(hub):
    with Peer(hub.address("control"), "c1", "client") as client, \
         Peer(hub.address("control"), "l1", "listener") as listener:
        client.handshake()
        client.api("add_series", name="a")
        assert listener.handshake().type is MessageType.HANDSHAKE_OK
        update = listener.recv()
        assert update.type is MessageType.UPDATE_SERIES
        assert update.body["series"] == [{"name": "a", "realtime": False}]
        client.api("add_series", name="b", realtime=True)
        note = listener.recv()
        while note.type is MessageType.HEARTBEAT:
            note = listener.recv()
        assert (note.type, note.body) == (MessageType.ADD_SERIE, {"name": "b", "realtime": True})
        counts = Message(MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": {"a": 3, "b": 4}})
        assert listener.request(counts).body["data"] == {"matched": 2}
        detail = client.api("get_series", name="b").body["data"]
        assert detail["points"] == 4


@pytest.mark.parametrize(
    "frames",
    [
        [b"garbage"],
        [b"ENODO/9", b"", b"{}", b"{}"],
        [b"ENODO/1", b"", b"{not json", b"{}"],
        [b"ENODO/1", b"", b'{"type":"NOPE","id":"m1","reply_to":null,"sender":"x"}', b"{}"],
        [b"ENODO/1", b"", b'{"type":"HANDSHAKE","id":"m2","reply_to":null,"sender":"x"}',
         b'{"client_id": 5}'],
    ],
)
def test_bad_frames_get_an_error_and_the_hub_stays_up(hub, frames):
    ctx = zmq.Context.instance()
    raw = make_socket(ctx, zmq.DEALER, 1 << 20)
    raw.connect(hub.address("control"))
    try:
        raw.send_multipart(frames)
        assert raw.poll(5000), "no error reply"
        reply = Codec("t").decode(raw.recv_multipart())
        assert reply.type is MessageType.ERROR
        assert reply.body["code"] in {"malformed", "bad_version", "unknown_type", "invalid"}
    finally:
        raw.close(linger=0)
    with Peer(hub.address("control"), "c2", "client") as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK


def test_api_socket_serves_req_peers(hub):
    ctx = zmq.Context.instance()
    channel = Channel(make_socket(ctx, zmq.REQ, 1 << 20), Codec("api-test"))
    channel.socket.connect(hub.address("api"))
    try:
        request = Message(MessageType.API_REQUEST, {"action": "enodo_status", "token": hub.token})
        channel.send(request)
        assert channel.socket.poll(5000)
        answer = channel.recv().msg
        assert answer.type is MessageType.RESPONSE_OK and answer.reply_to == request.id
        assert answer.body["data"]["series"] == 0
        channel.send(Message(MessageType.API_REQUEST, {"action": "get_series", "token": hub.token,
                                                       "params": {"name": "nope"}}))
        assert channel.socket.poll(5000)
        assert channel.recv().msg.body["code"] == "not_found"
    finally:
        channel.close()


def test_hub_refuses_a_broken_config(tmp_path):
    hub = HubProcess(tmp_path, extra={"ENODO_HUB_CONTROL_PORT": "not-a-port"})
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "actors.hub.main"], env=hub.env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "hub.control_port" in done.stderr and "ENODO_HUB_CONTROL_PORT" in done.stderr


def test_the_console_knows_where_each_peer_connects_from(hub):
    # The address is read from the handshake's frames (ZeroMQ's Peer-Address): a worker on
    # another host shows up with its address on the console's clients page.
    with Peer(hub.address("control"), "addr-worker", "worker") as worker, \
            Peer(hub.address("control"), "addr-admin", "client") as admin:
        assert worker.handshake().type is MessageType.HANDSHAKE_OK
        assert admin.handshake().type is MessageType.HANDSHAKE_OK
        clients = {c["client_id"]: c for c in admin.api("console_clients").body["data"]["clients"]}
        assert clients["addr-worker"]["address"] == "127.0.0.1"
        assert clients["addr-admin"]["address"] == "127.0.0.1"
