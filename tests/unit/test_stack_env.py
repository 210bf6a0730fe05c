"""`make run`'s environment: the port table, taken ports, unknown ENODO_* variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.stack_env import (
    PORTS,
    WORKERS,
    PortError,
    check_free,
    choose_ports,
    known_env_names,
    metrics_urls,
    process_env,
    unknown_env_warnings,
)
from tests.support.waiting import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_base_and_one_variable_per_port():
    assert choose_ports({}) == {p.var: p.default for p in PORTS}
    moved = choose_ports({"ENODO_PORT_BASE": "20000", "ENODO_API_PORT": "18080"})
    assert moved["ENODO_API_PORT"] == 18080
    assert moved["ENODO_HUB_API_PORT"] == 20005
    assert sorted(moved.values())[1:] == list(range(20001, 20010))
    env = process_env(moved)
    assert env["ENODO_API_BIND"] == "127.0.0.1:18080"
    assert env["ENODO_API_HUB_ADDRESS"] == env["ENODO_CLIENT_HUB"].replace("20003", "20005")
    assert env["ENODO_WORKER_RESULTS_PORT"] == env["ENODO_HUB_RESULTS_PORT"] == "20004"
    assert (env["ENODO_HUB_METRICS_PORT"], env["ENODO_LISTENER_METRICS_PORT"],
            env["ENODO_API_METRICS_BIND"], env["ENODO_WORKER_METRICS_PORT"]) == \
        ("20006", "20007", "127.0.0.1:20008", "20009")


def test_metrics_urls_one_per_actor_and_one_port_per_worker():
    urls = metrics_urls(choose_ports({"ENODO_PORT_BASE": "20000"}))
    assert urls == {"hub": "http://127.0.0.1:20006/metrics",
                    "listener": "http://127.0.0.1:20007/metrics",
                    "api": "http://127.0.0.1:20008/metrics",
                    "worker-0": "http://127.0.0.1:20009/metrics",
                    "worker-1": "http://127.0.0.1:20010/metrics"}
    conf = (ROOT / "configs" / "supervisord.conf").read_text()
    assert f"numprocs = {WORKERS}\n" in conf  # each started worker has its port


def test_the_second_worker_metrics_port_is_checked_too():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(PortError, match="ENODO_WORKER_METRICS_PORT"):
            check_free({"ENODO_WORKER_METRICS_PORT": taken - 1})


@pytest.mark.parametrize("env", [{"ENODO_PORT_BASE": "x"}, {"ENODO_PORT_BASE": "65534"},
                                 {"ENODO_TEE_PORT": "0"}])
def test_bad_ports_are_refused_by_name(env):
    with pytest.raises(PortError, match="ENODO_"):
        choose_ports(env)


def test_a_taken_port_is_named():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(PortError) as info:
            check_free({"ENODO_HUB_RESULTS_PORT": taken})
    assert f"port {taken} (hub results socket (workers), ENODO_HUB_RESULTS_PORT) is in use" \
        in str(info.value)
    assert "ENODO_PORT_BASE" in str(info.value)


def test_unknown_variables_are_named_with_a_guess():
    known = known_env_names()
    assert {"ENODO_API_WORKERS", "ENODO_CLIENT_HUB", "ENODO_SIRIDB_HOST",
            "ENODO_WORKER_STATE_DIR"} <= known
    warnings = unknown_env_warnings({"ENODO_HUB_CONTORL_PORT": "1", "ENODO_API_BIND": "x",
                                     "PATH": "/bin"}, known)
    assert warnings == ["warning: ENODO_HUB_CONTORL_PORT is set but no part of Enodo reads it "
                        "(did you mean ENODO_HUB_CONTROL_PORT?)"]


def test_make_run_refuses_a_taken_port_before_starting_anything(tmp_path):
    base = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = {**os.environ, "ENODO_PORT_BASE": str(base), "ENODO_SIRIDB_PORT": str(taken),
               "ENODO_RUN_DIR": str(tmp_path / "run"), "ENODO_TYPO": "1",
               "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "scripts.run_stack"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"enodo: port {taken} (development SiriDB" in done.stderr
    assert "Nothing was started" in done.stderr
    assert "warning: ENODO_TYPO is set but no part of Enodo reads it" in done.stderr
    assert not (tmp_path / "run").exists()  # no state made, no supervisord


def test_make_run_and_the_demo_print_the_console_url(tmp_path):
    from api.config import load_api_config
    from scripts.demo import banner
    from scripts.run_stack import console_url, prepare

    base = free_port()
    env = prepare({**os.environ, "ENODO_PORT_BASE": str(base),
                   "ENODO_RUN_DIR": str(tmp_path / "run")})
    assert console_url(env) == f"http://127.0.0.1:{base}/ui/"
    config = load_api_config({"ENODO_API_CONFIG": str(ROOT / "configs" / "api.conf")})
    text = banner(f"http://127.0.0.1:{base}", config, tmp_path / "run" / "alerts-received.jsonl")
    assert f"{tmp_path}/run/alerts-received.jsonl" in text
    assert f"console (series, charts, clients, event log, settings): http://127.0.0.1:{base}/ui/" \
        in text and "log in with the token in .enodo/hub/token" in text
