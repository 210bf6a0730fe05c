"""The API's options: defaults, the INI file named by ENODO_API_CONFIG, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.common.config import ConfigError
from api.config import hub_client_from_config, load_api_config

API_CONF = Path(__file__).resolve().parents[2] / "configs" / "api.conf"


def test_defaults():
    config = load_api_config(env={})
    assert config.section("api") == {
        "hub_address": "tcp://127.0.0.1:5563",
        "timeout": 5.0,
        "body_timeout": 10.0,
        "signing_key": "",
        "token": "",
        "token_file": ".enodo/hub/token",
        "bearer_token": "",
        "bearer_token_file": "",
        "read_token": "",
        "read_token_file": "",
        "curve_server_key": "",
        "curve_server_key_file": "",
        "start_wait": 60.0,
    }


def test_shipped_file_is_valid_and_matches_the_defaults():
    # ... but for the REST bearer token, which `make run` shares with the hub token.
    shipped = load_api_config(env={"ENODO_API_CONFIG": str(API_CONF)}).section("api")
    assert shipped.pop("bearer_token_file") == ".enodo/hub/token"
    defaults = load_api_config(env={}).section("api")
    assert defaults.pop("bearer_token_file") == ""
    assert shipped == defaults


def test_file_then_env_overrides(tmp_path):
    conf = tmp_path / "api.conf"
    conf.write_text("[api]\nhub_address = tcp://10.0.0.1:7000\ntimeout = 2\n")
    env = {"ENODO_API_CONFIG": str(conf), "ENODO_API_TIMEOUT": "0.5"}
    config = load_api_config(env=env)
    assert config.get("api", "hub_address") == "tcp://10.0.0.1:7000"
    assert config.get("api", "timeout") == 0.5


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ENODO_API_TIMEOUT": "0"}, "api.timeout: must be > 0"),
        ({"ENODO_API_TIMEOUT": "soon"}, "api.timeout: must be float"),
        ({"ENODO_API_HUB_ADDRESS": "localhost:5563"}, "api.hub_address"),
        ({"ENODO_API_CONFIG": "/nonexistent/api.conf"}, "cannot read config file"),
    ],
)
def test_bad_values_name_the_key(env, words):
    with pytest.raises(ConfigError) as info:
        load_api_config(env=env)
    assert words in str(info.value)


def test_unknown_key_in_file_is_refused(tmp_path):
    conf = tmp_path / "api.conf"
    conf.write_text("[api]\nhub_adress = tcp://127.0.0.1:1\n")
    with pytest.raises(ConfigError, match="api.hub_adress: unknown option"):
        load_api_config(env={"ENODO_API_CONFIG": str(conf)})


def test_signing_key_reaches_the_hub_client():
    config = load_api_config(env={"ENODO_API_SIGNING_KEY": "k3y"})
    client = hub_client_from_config(config)
    assert client._key == b"k3y"
    assert client._channel is None  # no socket before the first request
