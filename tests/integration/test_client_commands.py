"""enodo-client against a real hub: every command, its tables, --json, the config file."""

from __future__ import annotations

import argparse
import io
import json
import os

import pytest

from protocol.envelope import Message
from protocol.types import MessageType
from scripts.client import main, update_printer
from tests.support.hub import HubProcess


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    process = HubProcess(tmp_path_factory.mktemp("client-hub")).start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def client_home(tmp_path, monkeypatch, hub):
    """A client configured by its config file only: no flags, no ENODO_CLIENT_* variables."""
    for name in list(os.environ):
        if name.startswith("ENODO_CLIENT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    conf = tmp_path / "config" / "enodo" / "client.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f"[client]\nhub = {hub.address('control')}\n"
                    f"token_file = {hub.data_dir / 'token'}\ntimeout = 5\n")
    return conf


def client(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(args), out=out)
    return status, out.getvalue()


def test_every_command_prints_a_table_or_lines(capsys):
    assert client("add", "cpu/load", "--model", "ets", "--anomaly", "min_deviation=2")[0] == 0
    status, out = client("list")
    assert status == 0 and out.split()[:5] == ["NAME", "MODEL", "POINTS", "REALTIME", "JOBS"]
    assert "cpu/load" in out
    assert "the hub has no SiriDB configured" in client("show", "cpu/load")[1]
    assert client("forecast", "cpu/load") == (0, "no forecast of cpu/load yet\n")
    assert client("forecast", "cpu/load", "--offset", "5", "--limit", "5")[0] == 0
    assert client("anomalies", "cpu/load", "--limit", "5") == (0, "no anomalies in cpu/load\n")
    assert client("accuracy", "cpu/load")[0] == 0
    status, out = client("queue", "cpu/load", "train")
    assert (status, out) == (0, "queued train of cpu/load\n")
    status, out = client("settings", "fit_every=30")
    assert status == 0 and "fit_every" in out and "30" in out
    assert "fit_every" in client("settings")[1]
    status, out = client("status")
    assert status == 0 and "hub_id" in out and "uptime" in out
    assert "not_configured" in client("siridb")[1]
    status, out = client("log", "--limit", "3")
    assert status == 0 and out.split()[:5] == ["TIME", "LEVEL", "KIND", "SERIES", "MESSAGE"]
    assert len(out.strip().splitlines()) == 4
    assert "CLIENT_ID" in client("clients")[1]
    status, out = client("--json", "status")
    assert status == 0 and json.loads(out)["series"] == 1
    assert client("remove", "cpu/load") == (0, "removed cpu/load\n")
    assert client("show", "cpu/load")[0] == 1
    assert "not found" in capsys.readouterr().err


def test_bad_settings_and_limits_are_refused(capsys):
    assert client("settings", "fit_every=0")[0] == 1
    assert "fit_every" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        client("log", "--limit", "0")


def test_environment_wins_over_the_config_file(monkeypatch, capsys):
    monkeypatch.setenv("ENODO_CLIENT_HUB", "tcp://127.0.0.1:1")
    assert client("--timeout", "0.3", "status")[0] == 2
    assert "tcp://127.0.0.1:1" in capsys.readouterr().err


def test_watch_prints_one_line_per_change_not_every_job_state():
    out = io.StringIO()
    emit = update_printer(argparse.Namespace(json=False, all=False), out)
    cycle = [("state", {"job": job, "state": state, "error": None})
             for job in ("fit", "forecast") for state in ("queued", "running", "done")]
    cycle.append(("forecast", {"summary": {"points": 24}}))
    for event, data in cycle:
        emit(Message(MessageType.SERIES_UPDATE, {"name": "cpu", "event": event, "data": data}))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and " cpu forecast " in lines[0]
    emit(Message(MessageType.SERIES_UPDATE, {"name": "cpu", "event": "state", "data": {
        "job": "fit", "state": "failed", "error": "boom"}}))
    assert len(out.getvalue().splitlines()) == 2  # a failure is a change worth a line
