"""The worker's config: defaults, [siridb_output] fallbacks, errors naming the key, the id."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.common.config import ConfigError
from actors.worker.config import (
    SiriDBSettings,
    load_worker_config,
    resolve_identity,
    siridb_settings,
)
from actors.worker.main import hub_addresses, main

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_loads_with_defaults():
    config = load_worker_config(str(REPO / "configs" / "worker.conf"), env={})
    assert hub_addresses(config) == {
        "control": "tcp://127.0.0.1:5560",
        "results": "tcp://127.0.0.1:5562",
    }
    reader, writer = siridb_settings(config)
    assert reader == writer == SiriDBSettings("127.0.0.1", 9000, "iris", "siri", "enodo")


def test_output_keys_default_to_the_input_section(tmp_path):
    conf = tmp_path / "w.conf"
    conf.write_text("[siridb]\nhost = db1\nport = 9100\n[siridb_output]\ndatabase = out\n")
    env = {"ENODO_SIRIDB_OUTPUT_PORT": "9200", "ENODO_WORKER_HUB_HOST": "hub.local"}
    config = load_worker_config(str(conf), env=env)
    reader, writer = siridb_settings(config)
    assert (reader.host, reader.port, reader.database) == ("db1", 9100, "enodo")
    assert (writer.host, writer.port, writer.database, writer.user) == ("db1", 9200, "out", "iris")
    assert hub_addresses(config)["results"] == "tcp://hub.local:5562"


@pytest.mark.parametrize(
    ("text", "env", "needle"),
    [
        ("[worker]\nresults_port = many\n", {}, "worker.results_port"),
        ("[worker]\nnope = 1\n", {}, "worker.nope: unknown option"),
        ("", {"ENODO_SIRIDB_OUTPUT_PORT": "x"}, "siridb_output.port"),
        ("", {"ENODO_SIRIDB_OUTPUT_PORT": "70000"}, "siridb_output.port"),
        ("", {"ENODO_WORKER_HEARTBEAT_INTERVAL": "0"}, "worker.heartbeat_interval"),
        # SiriDB answers tail/head N only for N <= 1,000,000.
        ("", {"ENODO_WORKER_READ_CHUNK_POINTS": "1000001"}, "worker.read_chunk_points: must"),
        ("", {"ENODO_WORKER_READ_CHUNK_POINTS": "0"}, "worker.read_chunk_points: must"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, env, needle):
    conf = tmp_path / "w.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        load_worker_config(str(conf), env=env)


def test_read_chunk_points_of_1000000_is_accepted(tmp_path):
    env = {"ENODO_WORKER_READ_CHUNK_POINTS": "1000000"}
    assert load_worker_config(None, env=env).section("worker")["read_chunk_points"] == 1_000_000


def test_main_exits_2_naming_the_key(tmp_path, capsys):
    conf = tmp_path / "w.conf"
    conf.write_text("[worker]\ncontrol_port = -1\n")
    assert main(["--config", str(conf)]) == 2
    assert "worker.control_port" in capsys.readouterr().err


def test_identity_from_config_and_cli(tmp_path):
    assert resolve_identity("gpu-box", None, str(tmp_path)).worker_id == "gpu-box"
    assert resolve_identity("gpu-box", "3", str(tmp_path)).worker_id == "gpu-box-3"
    assert resolve_identity("", "3", str(tmp_path), hostname="h.example").worker_id == "h.example-3"
    long = resolve_identity("x" * 200, "12", str(tmp_path)).worker_id
    assert len(long) == 128 and long.endswith("-12")


def test_local_ids_are_distinct_while_held_and_stable_after(tmp_path):
    state = str(tmp_path / "state")
    first = resolve_identity("", None, state, hostname="h")
    second = resolve_identity("", None, state, hostname="h")
    assert (first.worker_id, second.worker_id) == ("h-1", "h-2")
    first.release()
    again = resolve_identity("", None, state, hostname="h")
    assert again.worker_id == "h-1"
    again.release()
    second.release()
