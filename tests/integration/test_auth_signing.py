"""HMAC signing end to end: hub, listener, worker, API and client all signing with one key
do the whole job; a peer with another key (or none) is refused with bad_signature and
changes nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import zmq
from siridb.connector import SiriDBClient

from api.routing import series_path
from protocol.envelope import Codec, Message
from protocol.transport import Channel, make_socket
from protocol.types import MessageType
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess, Peer
from tests.support.stack import Stack
from tests.support.waiting import wait_for

KEY = "signing-key-for-the-test"
NAME = "signed/series"
STEP, START = 60_000, 1_700_000_000_000


def insert(port: int, first: int, count: int) -> None:
    async def run() -> None:
        client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)])
        await client.connect()
        try:
            await client.insert({NAME: [[START + i * STEP, 10.0 + (i % 24) + 0.01 * i]
                                        for i in range(first, first + count)]})
        finally:
            client.close()

    asyncio.run(run())


@pytest.fixture
def stack(tmp_path):
    stack = Stack(
        tmp_path, workers=0, listener=True, api=True,
        hub_env={"ENODO_HUB_SIGNING_KEY": KEY}, worker_env={"ENODO_WORKER_SIGNING_KEY": KEY},
        listener_env={"ENODO_LISTENER_SIGNING_KEY": KEY}, api_env={"ENODO_API_SIGNING_KEY": KEY},
    )
    try:
        stack.start()
        stack.add_worker(1)  # online when the test says so
        yield stack.db, stack.hub, stack.api
    finally:
        stack.close()


def client(hub: HubProcess, key: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.client", "--hub", hub.address("control"),
         "--token", hub.token, "--signing-key", key, "--client-id", "signed-client",
         "--timeout", "2", "--json", *args],
        capture_output=True, text=True, timeout=30,
    )


def clients(api: Gunicorn) -> dict[str, bool]:
    return {c["client_id"]: c["online"] for c in api.request("GET", "/enodo/clients")[2]["clients"]}


def test_everyone_signing_does_the_whole_job(stack):
    db, hub, api = stack
    assert api.request("POST", "/settings", {"min_data_points": 100, "horizon": 6,
                                             "fit_every": 10})[0] == 200
    insert(db.port, 0, 200)  # history (this insert opens the tee connection)
    done = client(hub, KEY, "add", NAME, "--model", "arima")
    assert done.returncode == 0, done.stderr
    wait_for(lambda: clients(api).get("listener-test") and clients(api).get("test-worker-1"),
             30, "the signing listener and worker to come online")

    def detail() -> dict:
        return api.request("GET", series_path(NAME))[2]

    wait_for(lambda: detail()["jobs"]["forecast"]["state"] == "done", 60,
             "a forecast made by the signing worker")
    insert(db.port, 200, 10)
    wait_for(lambda: detail()["points_counted"] == 10, 20, "points counted by the signing listener")
    status, _, forecast = api.request("GET", series_path(NAME) + "/forecast")
    assert status == 200 and len(forecast["points"]) == 6


def test_a_peer_with_another_key_is_refused_and_changes_nothing(stack):
    _, hub, api = stack
    before = clients(api)
    events = api.request("GET", "/enodo/log?limit=1000")[2]["events"]
    for key in (b"another-key", None):
        # Signed with the wrong key (or not at all); the answer is read without checking it.
        with Peer(hub.address("control"), "intruder", "client") as peer:
            for msg in (
                Message(MessageType.HANDSHAKE, {"client_id": "intruder", "client_type": "client",
                                                "version": "t", "protocol": 1,
                                                "token": hub.token}),
                Message(MessageType.API_REQUEST, {"action": "add_series",
                                                  "params": {"name": "evil"}}),
            ):
                peer.channel.send_frames(Codec("intruder", key).encode(msg))
                answer = peer.recv()
                # The header of an unverified message is not trusted: no reply_to.
                assert answer.type is MessageType.ERROR and answer.reply_to is None
                assert answer.body["code"] == "bad_signature"
        channel = Channel(make_socket(zmq.Context.instance(), zmq.REQ, 1 << 20),
                          Codec("intruder-api", None))
        channel.socket.connect(hub.address("api"))
        try:
            request = Message(MessageType.API_REQUEST, {
                "action": "add_series", "params": {"name": "evil"}, "token": hub.token})
            channel.send_frames(Codec("intruder-api", key).encode(request))
            assert channel.socket.poll(5000)
            answer = channel.recv().msg
            assert answer.type is MessageType.ERROR and answer.body["code"] == "bad_signature"
        finally:
            channel.close()
    done = client(hub, "another-key", "add", "evil")
    assert done.returncode != 0
    assert api.request("GET", series_path("evil"))[0] == 404
    assert clients(api).keys() == before.keys()
    new_events = api.request("GET", "/enodo/log?limit=1000")[2]["events"]
    assert [e for e in new_events if e not in events and "intruder" in e["message"]] == []
    # A REST API with another key cannot reach the hub: 500, as docs/api.md says.
    with Gunicorn("api.wsgi:app", env={"ENODO_API_HUB_ADDRESS": hub.address("api"),
                                       "ENODO_API_SIGNING_KEY": "another-key"}) as other:
        status, _, body = other.request("POST", "/series", {"name": "evil"})
        assert (status, body["error"]["code"]) == (500, "internal")
    assert api.request("GET", series_path("evil"))[0] == 404
