"""scripts/check_deploy.py on the shipped supervisord files of docs/deploy.md, and broken ones."""

from __future__ import annotations

import configparser
import os
import shutil

import pytest

from scripts.check_deploy import main
from scripts.stack_env import ROOT

ROLES = ["hub.conf", "api.conf", "listener.conf", "worker.conf"]


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host's environment: a run dir with logs/, two workers; no stray ENODO_* variables."""
    for name in [n for n in os.environ if n.startswith("ENODO_")]:
        monkeypatch.delenv(name)
    (tmp_path / "run" / "logs").mkdir(parents=True)
    monkeypatch.setenv("ENODO_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("ENODO_WORKERS", "2")
    return tmp_path


def test_every_shipped_role_parses_and_its_config_loads(host, capsys):
    assert main(["--roles", *ROLES]) == 0
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines() if not line.startswith(" ")]
    assert sorted(names) == ["api", "hub", "listener", "worker-0", "worker-1"]
    assert "actors.worker.main --config" in out and "--id 1" in out
    assert "configs/deploy/api.conf ok" in out  # gunicorn's: found through ENODO_API_CONFIG
    assert out.count(" ok\n") == 5


def test_a_bad_value_in_the_hosts_environment_is_named(host, monkeypatch, capsys):
    monkeypatch.setenv("ENODO_WORKER_CONTROL_PORT", "x")
    assert main(["--roles", "worker.conf"]) == 2
    err = capsys.readouterr().err
    assert "worker-0: worker.control_port: must be int" in err


def test_an_unknown_key_in_a_role_config_is_named(host, capsys):
    configs = host / "configs"
    shutil.copytree(ROOT / "configs" / "supervisord", configs / "supervisord")
    shutil.copytree(ROOT / "configs" / "deploy", configs / "deploy")
    with open(configs / "deploy" / "listener.conf", "a", encoding="utf-8") as fh:
        fh.write("tee_prot = 9104\n")
    args = ["--host-conf", str(configs / "supervisord" / "host.conf"), "--roles"]
    assert main([*args, "listener.conf"]) == 2
    assert "listener.tee_prot: unknown option" in capsys.readouterr().err
    assert main([*args, "hub.conf"]) == 0


def test_what_supervisord_itself_refuses_is_said(host, monkeypatch, capsys):
    monkeypatch.setenv("ENODO_WORKERS", "two")
    assert main(["--roles", "worker.conf"]) == 2
    assert "supervisord cannot use" in capsys.readouterr().err
    monkeypatch.setenv("ENODO_RUN_DIR", str(host / "missing"))
    assert main(["--roles", "hub.conf"]) == 2
    assert "missing is not an existing directory" in capsys.readouterr().err


def test_no_roles_and_no_program_are_refused(host, capsys):
    assert main([]) == 2
    assert "ENODO_ROLES or --roles" in capsys.readouterr().err
    assert main(["--roles", "nothing.conf"]) == 2
    assert "no program" in capsys.readouterr().err


def test_what_stays_private_across_hosts():
    """The tee (no authentication) stays on loopback, supervisord's socket with its owner."""
    listener = configparser.ConfigParser(interpolation=None)
    listener.read(ROOT / "configs" / "deploy" / "listener.conf")
    assert listener["listener"]["tee_host"] == "127.0.0.1"
    host = configparser.ConfigParser(interpolation=None)
    host.read(ROOT / "configs" / "supervisord" / "host.conf")
    assert host["unix_http_server"]["chmod"] == "0700"
    assert not host.has_section("inet_http_server")
    hub = configparser.ConfigParser(interpolation=None)
    hub.read(ROOT / "configs" / "deploy" / "hub.conf")
    assert hub["hub"]["curve"] == "true" and hub["hub"]["metrics_host"] == "127.0.0.1"
