"""No endpoint and no log line shows a secret; config files others can read draw a warning;
config errors name the key, never the value."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from protocol.types import MessageType
from scripts.siridb_dev.testing import DevServer
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess, Peer
from tests.support.waiting import wait_for

TOKEN = "hub-token-S3CRET-5f1e2d"
SIGNING_KEY = "signing-key-S3CRET-77aa"
BEARER = "bearer-token-S3CRET-0b9c"
PASSWORD = "siridb-password-S3CRET-42"
ENDPOINTS = ("/settings", "/enodo/status", "/enodo/clients", "/siridb/status",
             "/enodo/log?limit=1000", "/series")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets")
    db = DevServer(dbname="dbtest", password=PASSWORD)
    db.start()
    conf = tmp / "hub.conf"
    conf.write_text(f"[siridb]\npassword = {PASSWORD}\n")
    conf.chmod(0o644)
    hub = HubProcess(tmp, extra={
        "ENODO_HUB_TOKEN": TOKEN, "ENODO_HUB_SIGNING_KEY": SIGNING_KEY, "ENODO_HUB_CURVE": "1",
        "ENODO_SIRIDB_HOST": "127.0.0.1", "ENODO_SIRIDB_PORT": str(db.port),
        "ENODO_SIRIDB_DATABASE": "dbtest", "ENODO_HUB_SIRIDB_CHECK_INTERVAL": "0.5",
    })
    with open(hub.log_path, "ab") as log:
        hub.proc = subprocess.Popen([sys.executable, "-m", "actors.hub.main", "--config",
                                     str(conf)], env=hub.env, stdout=log, stderr=log)

    def answers() -> bool:
        assert hub.proc.poll() is None, hub.log_path.read_text()[-2000:]
        with Peer(hub.address("control"), "probe", "client", **hub.peer_options()) as peer:
            return peer.handshake(timeout=0.5).type is MessageType.HANDSHAKE_OK

    wait_for(answers, 20, "the hub to answer")
    api = Gunicorn("api.wsgi:app", env={
        "ENODO_API_HUB_ADDRESS": hub.address("api"), "ENODO_API_SIGNING_KEY": SIGNING_KEY,
        "ENODO_API_BEARER_TOKEN": BEARER, "ENODO_API_CURVE_SERVER_KEY_FILE":
            str(hub.data_dir / "hub.key"), "ENODO_API_LOG_LEVEL": "debug",
    }).start()
    yield hub, api, conf
    api.stop()
    hub.stop(signal.SIGKILL)
    db.stop()


def secrets_of(hub: HubProcess) -> list[str]:
    curve_secret = (hub.data_dir / "hub.key_secret").read_text().split("secret-key = ")[1][1:41]
    return [TOKEN, SIGNING_KEY, BEARER, PASSWORD, curve_secret]


def test_no_endpoint_and_no_log_line_shows_a_secret(stack):
    hub, api, _ = stack
    options = hub.peer_options()
    with Peer(hub.address("control"), "good-client", "client", token=TOKEN, **options) as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK
        assert peer.api("add_series", name="s").type is MessageType.RESPONSE_OK
    with Peer(hub.address("control"), "bad-client", "worker", token=TOKEN[:-1] + "x",
              **options) as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_FAIL
    good = {"Authorization": f"Bearer {BEARER}"}
    assert api.request("GET", "/series", headers={"Authorization": "Bearer " + TOKEN})[0] == 401
    wait_for(lambda: api.request("GET", "/siridb/status", headers=good)[2]["connected"], 20,
             "the hub to connect to SiriDB with the password")
    bodies = []
    for path in ENDPOINTS:
        status, headers, body = api.request("GET", path, headers=good)
        assert status == 200, (path, body)
        bodies.append(repr(headers) + repr(body))
    seen = "\n".join(bodies)
    logs = {"hub log (DEBUG)": hub.log_path.read_text(), "API log": "".join(api.log)}
    assert "DEBUG" in logs["hub log (DEBUG)"]
    for secret in secrets_of(hub):
        assert secret not in seen
        for name, text in logs.items():
            assert secret not in text, f"a secret in the {name}"


def test_config_file_others_can_read_is_named_in_a_warning(stack):
    hub, _, conf = stack
    log = hub.log_path.read_text()
    warning = next(line for line in log.splitlines() if "readable by others" in line)
    assert "WARNING" in warning and str(conf) in warning and "siridb.password" in warning
    assert PASSWORD not in log


@pytest.mark.parametrize("module, env", [
    ("actors.hub.main", {"ENODO_HUB_CURVE_SECRET_KEY": TOKEN + "-not-a-z85-key"}),
    ("actors.hub.main", {"ENODO_HUB_CURVE_SECRET_KEY": "x" * 39 + "\u00e9"}),
    ("actors.worker.main", {"ENODO_WORKER_CURVE_SERVER_KEY": TOKEN}),
    ("actors.listener.main", {"ENODO_LISTENER_CURVE_SERVER_KEY": TOKEN}),
])
def test_config_errors_name_the_key_not_the_value(tmp_path, module, env):
    env = {**os.environ, **env, "ENODO_HUB_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    variable = next(name for name in env if "CURVE" in name)
    key = variable.removeprefix("ENODO_").lower().replace("_", ".", 1)
    assert key in done.stderr and "config error" in done.stderr
    assert TOKEN not in done.stderr + done.stdout and "x" * 39 not in done.stderr
