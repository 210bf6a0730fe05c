"""The hub token against real processes: generated once, required in every HANDSHAKE and on
the api socket, shared with peers through its file; the REST API's bearer token."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys

import pytest
import zmq

from protocol.envelope import Codec, Message
from protocol.transport import Channel, make_socket
from protocol.types import MessageType
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess, Peer
from tests.support.listener import ListenerProcess
from tests.support.waiting import wait_for

BAD_TOKENS = ("", "wrong", "x" * 43)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    process = HubProcess(tmp_path_factory.mktemp("auth")).start()
    yield process
    process.stop(signal.SIGKILL)


def admin(hub: HubProcess) -> Peer:
    peer = Peer(hub.address("control"), "admin", "client")
    assert peer.handshake().type is MessageType.HANDSHAKE_OK
    return peer


def data(answer: Message):
    assert answer.type is MessageType.RESPONSE_OK, answer.body
    return answer.body["data"]


def api_socket(hub: HubProcess, body: dict) -> Message:
    """One API_REQUEST on the api socket, as the REST API sends it."""
    channel = Channel(make_socket(zmq.Context.instance(), zmq.REQ, 1 << 20), Codec("api-test"))
    channel.socket.connect(hub.address("api"))
    try:
        channel.send(Message(MessageType.API_REQUEST, body))
        assert channel.socket.poll(5000), "no answer on the api socket"
        return channel.recv().msg
    finally:
        channel.close()


def test_token_is_generated_once_with_mode_0600_and_kept(tmp_path):
    hub = HubProcess(tmp_path).start()
    try:
        path = hub.data_dir / "token"
        token = hub.token
        assert len(token) >= 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert hub.stop() == 0
        hub.start()
        assert hub.token == token
        assert token not in hub.log_path.read_text()
    finally:
        hub.stop(signal.SIGKILL)


def test_wrong_or_missing_token_is_refused_and_changes_nothing(hub):
    with admin(hub) as peer:
        clients = {c["client_id"] for c in data(peer.api("list_clients"))["clients"]}
        peers = data(peer.api("enodo_status"))["peers"]
        events = data(peer.api("event_log", limit=1000))["events"]
        for token in BAD_TOKENS:
            for client_type in ("client", "listener", "worker"):
                with Peer(hub.address("control"), f"intruder-{client_type}", client_type,
                          token=token) as intruder:
                    answer = intruder.handshake()
                    assert answer.type is MessageType.HANDSHAKE_FAIL
                    assert answer.body["code"] == "unauthorized"
                    # Not a peer: whatever it says next is answered UNKNOWN_CLIENT.
                    later = intruder.api("add_series", name="evil")
                    assert later.type is MessageType.UNKNOWN_CLIENT
        assert {c["client_id"] for c in data(peer.api("list_clients"))["clients"]} == clients
        assert data(peer.api("enodo_status"))["peers"] == peers
        assert data(peer.api("event_log", limit=1000))["events"] == events
        assert peer.api("get_series", name="evil").body["code"] == "not_found"


def test_api_socket_requires_the_token_in_every_request(hub):
    for token in BAD_TOKENS:
        body = {"action": "add_series", "params": {"name": "via-api"}}
        if token:
            body["token"] = token
        answer = api_socket(hub, body)
        assert answer.type is MessageType.ERROR and answer.body["code"] == "unauthorized"
    answer = api_socket(hub, {"action": "get_series", "params": {"name": "via-api"},
                              "token": hub.token})
    assert answer.type is MessageType.ERROR and answer.body["code"] == "not_found"
    answer = api_socket(hub, {"action": "enodo_status", "token": hub.token})
    assert answer.type is MessageType.RESPONSE_OK


def test_client_cli_with_the_token_file_and_with_a_wrong_token(hub):
    def client(*args):
        return subprocess.run(
            [sys.executable, "-m", "scripts.client", "--hub", hub.address("control"),
             "--client-id", "cli", "--timeout", "5", *args, "list"],
            capture_output=True, text=True, timeout=30,
        )

    done = client("--token-file", str(hub.data_dir / "token"))
    assert done.returncode == 0, done.stderr
    done = client("--token", "wrong")
    assert done.returncode == 3 and "hub refused the token" in done.stderr
    done = client("--token-file", str(hub.data_dir / "missing"))
    assert done.returncode == 3 and "cannot read the token file" in done.stderr


def test_listener_started_before_the_hub_reads_the_token_file_once_written(tmp_path):
    hub = HubProcess(tmp_path)
    listener = ListenerProcess(tmp_path, hub.ports["control"]).start()
    try:
        assert not (hub.data_dir / "token").exists()
        hub.start()
        with admin(hub) as peer:
            wait_for(lambda: any(c["client_id"] == "listener-test" and c["online"]
                                 for c in data(peer.api("list_clients"))["clients"]),
                     20, "the listener to come online with the token from the file")
        assert hub.token not in listener.log_path.read_text()
    finally:
        listener.stop(signal.SIGKILL)
        hub.stop(signal.SIGKILL)


def test_rest_needs_the_bearer_token_and_the_api_the_hub_token(hub):
    bearer = {"ENODO_API_HUB_ADDRESS": hub.address("api"),
              "ENODO_API_BEARER_TOKEN_FILE": str(hub.data_dir / "token")}
    with Gunicorn("api.wsgi:app", env=bearer) as api:
        status, headers, body = api.request("GET", "/series")
        assert (status, body["error"]["code"]) == (401, "unauthorized")
        assert headers["www-authenticate"].startswith("Bearer")
        status, headers, _ = api.request("GET", "/series", headers={"Authorization": "Bearer no"})
        assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"]
        good = {"Authorization": f"Bearer {hub.token}"}
        status, _, body = api.request("POST", "/series", {"name": "rest/ok"}, headers=good)
        assert status == 201 and body["name"] == "rest/ok"
        assert api.request("DELETE", "/series/rest%2Fok", headers=good)[0] == 200
    # An API with the wrong hub token: the hub refuses it, REST users see 500, nothing changes.
    wrong = {"ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_TOKEN": "not-the-token"}
    with Gunicorn("api.wsgi:app", env=wrong) as api:
        status, _, body = api.request("POST", "/series", {"name": "rest/refused"})
        assert (status, body["error"]["code"]) == (500, "internal")
        assert "not-the-token" not in "".join(api.log)
    with admin(hub) as peer:
        assert peer.api("get_series", name="rest/refused").body["code"] == "not_found"
