"""enodo-client and its session against a real in-test ROUTER stub of the control socket."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from protocol.envelope import Message
from protocol.types import MessageType
from scripts.client import main
from scripts.client_session import ClientSession, HandshakeRefused
from scripts.client_watch import watch
from tests.api.stub_hub import ControlState, StubHub, control_handler, series_actions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def series():
    return {}


@pytest.fixture
def state(series):
    return ControlState(series_actions(series))


@pytest.fixture
def stub(state):
    with StubHub(control_handler(state)) as hub:
        yield hub


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ENODO_CLIENT_TOKEN", raising=False)
    return tmp_path / "state"


def run(stub, *args, timeout="2"):
    return main(["--hub", stub.endpoint, "--timeout", timeout, *args])


def bodies(stub, msg_type):
    return [m.msg.body for m in stub.of_type(msg_type)]


def test_list_empty_then_shutdown(stub, capsys):
    assert run(stub, "list") == 0
    assert "no series watched" in capsys.readouterr().out
    (handshake,) = bodies(stub, MessageType.HANDSHAKE)
    assert handshake["client_type"] == "client"
    assert handshake["protocol"] == 1
    assert handshake["version"]
    stub.wait_for(lambda got: any(m.msg.type is MessageType.SHUTDOWN for m in got))


def test_add_sends_model_params_and_realtime(stub, series, capsys):
    args = ["add", "cpu/load", "--model", "prophet", "--param", "p=2", "--param", "mode=fast",
            "--param", "xs=[1,2]", "--realtime"]
    assert run(stub, *args) == 0
    assert bodies(stub, MessageType.API_REQUEST)[-1] == {
        "action": "add_series",
        "params": {"name": "cpu/load", "model": "prophet", "realtime": True,
                   "model_parameters": {"p": 2, "mode": "fast", "xs": [1, 2]}},
    }
    assert capsys.readouterr().out.startswith("added cpu/load\n")
    assert "cpu/load" in series


def test_legacy_numeric_model(stub):
    assert run(stub, "add", "cpu", "--model", "2") == 0
    assert bodies(stub, MessageType.API_REQUEST)[-1]["params"]["model"] == 2


def test_list_show_remove(stub, capsys):
    run(stub, "add", "cpu")
    run(stub, "add", "with space")
    capsys.readouterr()
    assert run(stub, "list") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["NAME", "MODEL", "POINTS", "REALTIME", "JOBS"]
    assert "cpu" in out and '"with space"' in out
    assert run(stub, "show", "cpu") == 0
    assert "points" in capsys.readouterr().out
    assert run(stub, "remove", "cpu") == 0
    assert capsys.readouterr().out.strip() == "removed cpu"


def test_json_output(stub, capsys):
    run(stub, "add", "cpu")
    capsys.readouterr()
    assert run(stub, "--json", "list") == 0
    assert json.loads(capsys.readouterr().out)["series"][0]["name"] == "cpu"


def test_clients_command(stub, state, capsys):
    state.actions["list_clients"] = lambda params: {"clients": [
        {"client_id": "w1", "client_type": "worker", "version": "0.1.0", "online": True,
         "last_seen": 1700000000.0, "first_seen": 1700000000.0}]}
    assert run(stub, "clients") == 0
    out = capsys.readouterr().out
    assert "w1" in out and "worker" in out and "online" in out


@pytest.mark.parametrize(
    ("args", "code"),
    [(["show", "nope"], "not_found"), (["remove", "nope"], "not_found")],
)
def test_hub_error_exits_1(stub, capsys, args, code):
    assert run(stub, *args) == 1
    assert capsys.readouterr().err.startswith(f"error: {code}: ")


def test_duplicate_add_exits_1_with_conflict(stub, capsys):
    run(stub, "add", "cpu")
    assert run(stub, "add", "cpu") == 1
    assert "error: conflict: " in capsys.readouterr().err


def test_wrong_token_exits_3(stub, state, capsys):
    state.token = "s3cret"
    assert run(stub, "--token", "wrong", "list") == 3
    assert "hub refused the token" in capsys.readouterr().err
    assert bodies(stub, MessageType.API_REQUEST) == []


def test_token_from_environment(stub, state, monkeypatch):
    state.token = "s3cret"
    monkeypatch.setenv("ENODO_CLIENT_TOKEN", "s3cret")
    assert run(stub, "list") == 0
    assert bodies(stub, MessageType.HANDSHAKE)[0]["token"] == "s3cret"


def test_signing_key_mismatch_is_an_error_not_a_timeout(series, capsys):
    with StubHub(control_handler(ControlState(series_actions(series))), key=b"k") as stub:
        started = time.monotonic()
        assert run(stub, "list", timeout="5") == 1
        assert time.monotonic() - started < 4
    assert "bad_signature" in capsys.readouterr().err


def test_signed_session(series, capsys):
    with StubHub(control_handler(ControlState(series_actions(series))), key=b"k") as stub:
        assert run(stub, "--signing-key", "k", "list") == 0


def test_hub_down_exits_2_within_timeout(capsys):
    with StubHub(control_handler(ControlState({}))) as stub:
        endpoint = stub.endpoint
    started = time.monotonic()
    assert main(["--hub", endpoint, "--timeout", "0.3", "list"]) == 2
    assert time.monotonic() - started < 2
    assert capsys.readouterr().err.strip() == f"hub not reachable at {endpoint} within 0.3 s"


def test_unknown_client_triggers_a_new_handshake(stub, state):
    session = ClientSession(stub.endpoint, "c1", version="t", timeout=2)
    try:
        session.connect()
        state.forget_all()
        assert session.request("list_series")["series"] == []
        assert len(stub.of_type(MessageType.HANDSHAKE)) == 2
    finally:
        session.close()


def test_session_handshake_fail_raises(stub, state):
    state.token = "t"
    session = ClientSession(stub.endpoint, "c1", version="t", timeout=2)
    try:
        with pytest.raises(HandshakeRefused) as info:
            session.connect()
        assert info.value.code == "unauthorized"
    finally:
        session.close(say_goodbye=False)


def test_client_id_is_stable_and_overridable(stub, state_home):
    assert run(stub, "list") == 0
    assert run(stub, "list") == 0
    assert run(stub, "--client-id", "mine", "list") == 0
    ids = [b["client_id"] for b in bodies(stub, MessageType.HANDSHAKE)]
    stored = (state_home / "enodo" / "client-id").read_text().strip()
    assert ids == [stored, stored, "mine"]


def test_watch_emits_updates_heartbeats_and_rehandshakes(stub, state):
    session = ClientSession(stub.endpoint, "watcher", version="t", timeout=1)
    seen: queue.Queue[Message] = queue.Queue()
    stop = threading.Event()
    session.connect()
    thread = threading.Thread(
        target=watch, args=(session, ["cpu"], seen.put, lambda text: None, stop.is_set)
    )
    thread.start()
    try:
        sub = stub.wait_for(lambda got: [m for m in got if m.msg.type is MessageType.SUBSCRIBE])
        assert sub[0].msg.body == {"series": ["cpu"]}
        update = {"name": "cpu", "event": "forecast", "data": {"points": 3}}
        stub.push(sub[0].route, Message(MessageType.SERIES_UPDATE, update))
        assert seen.get(timeout=5).body == update
        stub.wait_for(lambda got: [m for m in got if m.msg.type is MessageType.HEARTBEAT])
        state.forget_all()
        stub.wait_for(lambda got: len([m for m in got if m.msg.type is MessageType.SUBSCRIBE]) == 2)
        assert len(stub.of_type(MessageType.HANDSHAKE)) == 2
    finally:
        stop.set()
        thread.join(10)
        session.close()
    assert not thread.is_alive()


def test_watch_reconnects_after_hub_silence(stub, state):
    session = ClientSession(stub.endpoint, "watcher", version="t", timeout=0.5)
    warnings: queue.Queue[str] = queue.Queue()
    stop = threading.Event()
    session.connect()
    thread = threading.Thread(target=watch, args=(session, None, print, warnings.put, stop.is_set))
    thread.start()
    try:
        stub.wait_for(lambda got: [m for m in got if m.msg.type is MessageType.SUBSCRIBE])
        stub.answering.clear()
        assert "lost the hub" in warnings.get(timeout=5)
        stub.answering.set()
        stub.wait_for(lambda got: len([m for m in got if m.msg.type is MessageType.SUBSCRIBE]) >= 2)
    finally:
        stop.set()
        thread.join(10)
        session.close()


def test_watch_command_prints_lines_and_says_shutdown_on_ctrl_c(stub, state_home):
    env = {**os.environ, "XDG_STATE_HOME": str(state_home)}
    cmd = [sys.executable, "-m", "scripts.client", "--hub", stub.endpoint, "watch", "cpu"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        sub = stub.wait_for(lambda got: [m for m in got if m.msg.type is MessageType.SUBSCRIBE])
        update = {"name": "cpu", "event": "anomalies", "data": {"count": 1}}
        stub.push(sub[0].route, Message(MessageType.SERIES_UPDATE, update))
        line = lines.get(timeout=5)
        assert line.split()[1:] == ["cpu", "anomalies", '{"count":1}']
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        stub.wait_for(lambda got: [m for m in got if m.msg.type is MessageType.SHUTDOWN])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_name_that_cannot_be_sent_is_an_error(stub, capsys):
    assert run(stub, "show", "bad\udcff") == 1
    assert capsys.readouterr().err.startswith("error: invalid: ")
