"""CurveZMQ on the hub's sockets: keys generated into data_dir; peers holding the hub's
public key (listener, worker, API, client) talk to it, peers without it never do."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
import threading

import pytest
import zmq

from protocol.curve import CurveClient
from protocol.types import MessageType
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess, Peer
from tests.support.listener import ListenerProcess
from tests.support.waiting import free_port, wait_for
from tests.support.worker import WorkerProcess

#: An answer takes milliseconds on loopback; a CURVE handshake that fails never gives one.
SILENCE = 1.5


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    process = HubProcess(tmp_path_factory.mktemp("curve"), extra={"ENODO_HUB_CURVE": "true"})
    process.start()
    yield process
    process.stop(signal.SIGKILL)


def public_file(hub: HubProcess) -> str:
    return str(hub.data_dir / "hub.key")


def handshake(hub: HubProcess, client_id: str, curve: CurveClient | None):
    with Peer(hub.address("control"), client_id, "client", curve=curve) as peer:
        return peer.handshake(timeout=SILENCE)


def known_clients(hub: HubProcess) -> set[str]:
    with Peer(hub.address("control"), "curve-admin", "client", **hub.peer_options()) as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK
        return {c["client_id"] for c in peer.api("list_clients").body["data"]["clients"]}


def test_keys_are_generated_into_data_dir(hub):
    secret = hub.data_dir / "hub.key_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    public, secret_key = zmq.auth.load_certificate(secret)
    assert secret_key is not None
    assert zmq.auth.load_certificate(public_file(hub)) == (public, None)


def test_a_peer_with_the_server_key_talks_and_others_cannot(hub):
    public = zmq.auth.load_certificate(public_file(hub))[0]
    answer = handshake(hub, "curve-good", CurveClient.for_server(public))
    assert answer.type is MessageType.HANDSHAKE_OK
    other_public, _ = zmq.curve_keypair()
    for client_id, curve in (("plain-peer", None),
                             ("wrong-key-peer", CurveClient.for_server(other_public))):
        with pytest.raises(TimeoutError):
            handshake(hub, client_id, curve)
    assert {"plain-peer", "wrong-key-peer"}.isdisjoint(known_clients(hub))
    assert "curve-good" in known_clients(hub)


def test_listener_worker_api_and_client_with_the_key_file(hub, tmp_path):
    listener = ListenerProcess(tmp_path, hub.ports["control"], extra={
        "ENODO_LISTENER_CURVE_SERVER_KEY_FILE": public_file(hub)}).start()
    worker = WorkerProcess(tmp_path, hub.ports, free_port(), 1)  # no SiriDB: not needed here
    worker.env["ENODO_WORKER_CURVE_SERVER_KEY_FILE"] = public_file(hub)
    worker.start()
    try:
        wait_for(lambda: {"listener-test", "test-worker-1"} <= known_clients(hub), 60,
                 "the listener and the worker to come online over CURVE")
        env = {"ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_TIMEOUT": "1"}
        with Gunicorn("api.wsgi:app", env={
                **env, "ENODO_API_CURVE_SERVER_KEY_FILE": public_file(hub)}) as api:
            status, _, body = api.request("GET", "/enodo/status")
            assert status == 200 and body["peers"]["worker"] == 1
            # A job goes out on the jobs socket and its outcome comes back on the results
            # socket, both under CURVE (it fails softly: there is no SiriDB to read).
            assert api.request("POST", "/series", {"name": "curve/job"})[0] == 201
            assert api.request("POST", "/series/curve%2Fjob/jobs", {"type": "train"})[0] == 202
            wait_for(lambda: "SiriDB unavailable" in (
                api.request("GET", "/series/curve%2Fjob")[2]["jobs"]["train"]["error"] or ""),
                30, "the worker's JOB_FAILED to reach the hub")
        with Gunicorn("api.wsgi:app", env=env) as plain_api:
            assert plain_api.request("GET", "/enodo/status")[0] == 503
    finally:
        worker.stop(signal.SIGKILL)
        listener.stop(signal.SIGKILL)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "scripts.client", "--hub", hub.address("control"),
             "--token", hub.token, "--client-id", "curve-cli", "--timeout", str(SILENCE),
             *args, "list"], capture_output=True, text=True, timeout=30)

    done = cli("--curve-server-key-file", public_file(hub))
    assert done.returncode == 0, done.stderr
    public = zmq.auth.load_certificate(public_file(hub))[0].decode()
    assert cli("--curve-server-key", public).returncode == 0
    done = cli()
    assert done.returncode == 2 and "not reachable" in done.stderr


def test_the_api_started_before_the_hub_waits_for_its_public_key(tmp_path):
    """supervisord starts the hub and the API together: on a first start the API waits for
    the hub.key the hub is about to write, instead of exiting (docs/api.md, start_wait)."""
    hub = HubProcess(tmp_path, extra={"ENODO_HUB_CURVE": "true"})
    api = Gunicorn("api.wsgi:app", env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_TIMEOUT": "1",
        "ENODO_API_TOKEN_FILE": str(hub.data_dir / "token"),
        "ENODO_API_CURVE_SERVER_KEY_FILE": public_file(hub)})
    started: list[Gunicorn | BaseException] = []

    def start_api() -> None:
        try:
            started.append(api.start(timeout=60))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            started.append(exc)

    thread = threading.Thread(target=start_api, daemon=True)
    thread.start()
    try:
        wait_for(lambda: any("waiting up to 60 s for the hub" in line for line in api.log), 30,
                 "the API to say it waits for the hub's key")
        assert api.proc is not None and api.proc.poll() is None, "".join(api.log)
        hub.start()
        thread.join(60)
        assert started and started[0] is api, started
        # 200: the API reached the hub over CURVE with the key it waited for (plain: 503).
        assert api.request("GET", "/enodo/status")[0] == 200
    finally:
        api.stop()
        hub.stop(signal.SIGKILL)
