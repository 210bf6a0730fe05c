"""Out of the box, nothing listens beyond this machine: every default bind is loopback."""

from __future__ import annotations

import configparser
import inspect
import runpy
import shlex
from pathlib import Path

from actors.common.config import load_config
from actors.hub.config import OPTIONS as HUB_OPTIONS
from actors.hub.main import addresses
from actors.listener.config import OPTIONS as LISTENER_OPTIONS
from actors.listener.tee_server import TeeServer
from api.config import load_api_config
from scripts.siridb_dev.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def test_hub_binds_every_socket_to_loopback():
    for config in (load_config(HUB_OPTIONS, env={}),
                   load_config(HUB_OPTIONS, str(ROOT / "configs" / "hub.conf"), env={})):
        for address in addresses(config).values():
            assert address.startswith("tcp://127.0.0.1:"), address


def test_listener_tee_listens_on_loopback():
    for config in (load_config(LISTENER_OPTIONS, env={}),
                   load_config(LISTENER_OPTIONS, str(ROOT / "configs" / "listener.conf"),
                               env={})):
        assert config.get("listener", "tee_host") in LOOPBACK
    assert inspect.signature(TeeServer).parameters["host"].default in LOOPBACK


def test_gunicorn_binds_loopback(monkeypatch, tmp_path):
    monkeypatch.delenv("ENODO_API_BIND", raising=False)
    # The config sets PROMETHEUS_MULTIPROC_DIR in os.environ; monkeypatch takes it back, or
    # every actor this test process starts later would count into that folder.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(ROOT / "configs" / "gunicorn.conf.py"))
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert load_api_config(env={}).get("api", "hub_address").startswith("tcp://127.0.0.1:")


def test_dev_siridb_binds_loopback_also_under_make_run():
    assert build_parser().parse_args([]).host in LOOPBACK
    supervisord = configparser.ConfigParser(interpolation=None)
    supervisord.read(ROOT / "configs" / "supervisord.conf")
    command = shlex.split(supervisord["program:siridb-dev"]["command"])
    if "--host" in command:
        assert command[command.index("--host") + 1] in LOOPBACK
    # supervisord's own control socket is a Unix socket only its owner may use.
    assert supervisord["unix_http_server"]["chmod"] == "0700"
    assert not supervisord.has_section("inet_http_server")
