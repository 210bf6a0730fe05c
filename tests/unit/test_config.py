"""Config loading: defaults, INI file, env overrides, errors that name the key."""

from __future__ import annotations

import pytest

from actors.common.config import ConfigError, Option, load_config, port
from actors.hub.config import OPTIONS, load_hub_config

SPEC = [
    Option("hub", "control_port", int, 5560, port),
    Option("hub", "debug", bool, False),
    Option("hub", "token", str, "", secret=True),
]


def test_defaults_then_file_then_env(tmp_path):
    conf = tmp_path / "hub.conf"
    conf.write_text("[hub]\ncontrol_port = 6000\ndebug = yes\n")
    config = load_config(SPEC, str(conf), env={"ENODO_HUB_CONTROL_PORT": "7000"})
    assert config.get("hub", "control_port") == 7000
    assert config.get("hub", "debug") is True
    assert config.get("hub", "token") == ""
    assert config.sources[("hub", "control_port")] == "ENODO_HUB_CONTROL_PORT"


@pytest.mark.parametrize(
    ("text", "env", "needle"),
    [
        ("[hub]\ncontrol_port = abc\n", {}, "hub.control_port: must be int, got 'abc'"),
        ("[hub]\ncontrol_port = 70000\n", {}, "hub.control_port: must be a port"),
        ("[hub]\ncontrl_port = 1\n", {}, "hub.contrl_port: unknown option"),
        ("[hub]\ndebug = maybe\n", {}, "hub.debug: must be a boolean"),
        ("", {"ENODO_HUB_CONTROL_PORT": "x"}, "(from ENODO_HUB_CONTROL_PORT)"),
        ("not ini at all", {}, "not valid INI"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, env, needle):
    conf = tmp_path / "hub.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(SPEC, str(conf), env=env)
    assert needle in str(info.value)


def test_secret_values_are_not_echoed(tmp_path):
    spec = [Option("hub", "token", int, 0, secret=True)]
    conf = tmp_path / "hub.conf"
    conf.write_text("[hub]\ntoken = hunter2\n")
    with pytest.raises(ConfigError) as info:
        load_config(spec, str(conf), env={})
    assert "hunter2" not in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(SPEC, str(tmp_path / "nope.conf"), env={})


def test_shipped_hub_conf_loads():
    config = load_hub_config("configs/hub.conf")
    assert config.get("hub", "bind_host") == "127.0.0.1"
    assert len(config.section("hub")) == len([o for o in OPTIONS if o.section == "hub"])


def test_a_retired_key_is_ignored_with_a_warning(tmp_path, caplog):
    # An upgraded host keeps its hub.conf: jobs_port (gone with the jobs socket) must not
    # stop the hub, and the operator is told to remove it.
    conf = tmp_path / "hub.conf"
    conf.write_text("[hub]\njobs_port = 5561\ncontrol_port = 6000\n")
    config = load_config(SPEC, str(conf), env={})
    assert config.get("hub", "control_port") == 6000
    assert "hub.jobs_port" in caplog.text and "no longer used" in caplog.text
    assert load_hub_config(str(conf)).get("hub", "control_port") == 6000
