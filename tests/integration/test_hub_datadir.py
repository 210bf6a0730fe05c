"""The hub's data folder: a second hub on it refuses to start; its files are 0600."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest

from protocol.types import MessageType
from scripts.siridb_dev.testing import DevServer
from tests.support.hub import HubProcess, Peer
from tests.support.waiting import free_port


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def hub(tmp_path):
    process = HubProcess(tmp_path).start()
    yield process
    process.stop(signal.SIGKILL)


def test_second_hub_on_the_same_folder_refuses_to_start(hub, tmp_path):
    db = hub.data_dir / "hub.sqlite3"
    before = db.stat().st_mtime_ns, (hub.data_dir / "token").read_text()
    env = dict(hub.env)
    env.update({f"ENODO_HUB_{name.upper()}_PORT": str(free_port()) for name in hub.ports})
    second = subprocess.run([sys.executable, "-m", "actors.hub.main"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert f"data_dir {hub.data_dir} is in use by another hub (pid {hub.proc.pid})" \
        in second.stderr
    # The first hub goes on, its folder untouched by the second.
    assert (db.stat().st_mtime_ns, (hub.data_dir / "token").read_text()) == before
    with Peer(hub.address("control"), "c1", "client") as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK


def test_the_lock_dies_with_the_hub(hub):
    hub.stop(signal.SIGKILL)
    hub.start()  # the kernel dropped the flock of the killed hub: nothing stale to clear


def test_state_files_are_private(hub):
    with Peer(hub.address("control"), "c1", "client") as peer:
        peer.handshake()
        assert peer.api("add_series", name="a").type is MessageType.RESPONSE_OK
    files = ["hub.sqlite3", "hub.sqlite3-wal", "hub.sqlite3-shm", "hub.lock", "token"]
    assert {name: mode(hub.data_dir / name) for name in files} == dict.fromkeys(files, 0o600)


def test_state_files_of_an_older_hub_are_made_private(hub):
    hub.stop()
    for name in ("hub.sqlite3", "hub.sqlite3-wal", "hub.sqlite3-shm"):
        path = hub.data_dir / name
        path.touch()
        path.chmod(0o644)
    hub.start()
    assert mode(hub.data_dir / "hub.sqlite3") == 0o600
    assert mode(hub.data_dir / "hub.sqlite3-wal") == 0o600


def test_development_server_database_is_private(tmp_path):
    path = tmp_path / "siridb.sqlite"
    with DevServer(dbname="dbtest", storage=str(path)):
        files = [p.name for p in tmp_path.iterdir() if p.name.startswith("siridb.sqlite")]
        assert "siridb.sqlite-wal" in files
        assert {name: mode(tmp_path / name) for name in files} == dict.fromkeys(files, 0o600)
    path.chmod(0o644)
    with DevServer(dbname="dbtest", storage=str(path)):
        assert mode(path) == 0o600
