"""Secrets on disk: the hub's generated token, peers' token files, CURVE keys, exposed configs."""

from __future__ import annotations

import logging
import os
import stat

import pytest
import zmq

from actors.common.auth import (
    TokenSource,
    exposed_config_secrets,
    hub_token,
    warn_exposed_secrets,
    write_private,
)
from actors.common.config import ConfigError, Option, load_config
from actors.common.curve_keys import client_curve, hub_curve
from actors.hub.config import OPTIONS as HUB_OPTIONS
from actors.hub.state import HubState
from actors.hub.store import Store
from protocol.curve import CurveClient, CurveServer, check_z85_key

SECRET = "s3cret-value-never-shown"


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# the hub's token ----------------------------------------------------------------
def test_hub_generates_its_token_once_with_mode_0600(tmp_path):
    data_dir = tmp_path / "hub"
    token, path = hub_token("", "", str(data_dir))
    assert path == str(data_dir / "token") and len(token) >= 40
    assert mode_of(path) == 0o600
    assert (data_dir / "token").read_text().strip() == token
    assert hub_token("", "", str(data_dir)) == (token, path)  # reused on later starts
    assert not [p for p in os.listdir(data_dir) if p.endswith(".tmp")]


def test_configured_token_wins_and_writes_no_file(tmp_path):
    assert hub_token(" given ", "", str(tmp_path)) == ("given", None)
    assert not (tmp_path / "token").exists()


def test_token_file_option_and_its_problems(tmp_path):
    own = tmp_path / "elsewhere" / "hub-token"
    token, path = hub_token("", str(own), str(tmp_path / "data"))
    assert path == str(own) and own.read_text().strip() == token
    own.write_text("\n")
    with pytest.raises(ConfigError, match="is empty") as err:
        hub_token("", str(own), str(tmp_path))
    assert "hub.token_file" in str(err.value)


def test_write_private_never_replaces_a_file(tmp_path):
    path = tmp_path / "f"
    assert write_private(str(path), "one") is True
    assert write_private(str(path), "two") is False
    assert path.read_text() == "one" and mode_of(path) == 0o600


def test_a_token_file_others_can_read_draws_a_warning(tmp_path, caplog):
    path = tmp_path / "token"
    path.write_text(SECRET)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, "enodo.auth"):
        assert hub_token("", str(path), str(tmp_path))[0] == SECRET
    assert str(path) in caplog.text and "readable by others" in caplog.text
    assert SECRET not in caplog.text


# hub state -----------------------------------------------------------------------
def test_check_token_compares_and_refuses_missing(tmp_path):
    state = HubState(Store(str(tmp_path)), token="abc")
    assert state.check_token("abc")
    assert not state.check_token("abd") and not state.check_token(None)
    assert not state.check_token("") and not state.check_token("abc ")
    open_state = HubState(Store(str(tmp_path / "other")), token="")
    assert open_state.check_token(None)


# peers' token source -------------------------------------------------------------
def test_token_source_inline_wins():
    assert TokenSource("  tok ", "/nonexistent")() == "tok"
    assert TokenSource()() == "" and not TokenSource().configured


def test_token_source_waits_for_the_file_and_follows_changes(tmp_path, caplog):
    path = tmp_path / "token"
    source = TokenSource("", str(path))
    with caplog.at_level(logging.WARNING, "enodo.auth"):
        assert source() == "" and source() == ""
    assert caplog.text.count("cannot read the token file") == 1  # once per problem
    write_private(str(path), "first\n")
    assert source() == "first"
    os.unlink(path)
    write_private(str(path), "second-token\n")
    assert source() == "second-token"


def test_token_source_warns_once_about_a_readable_file(tmp_path, caplog):
    path = tmp_path / "token"
    path.write_text(SECRET)
    path.chmod(0o640)
    source = TokenSource("", str(path))
    with caplog.at_level(logging.WARNING, "enodo.auth"):
        assert source() == SECRET and source() == SECRET
    assert caplog.text.count("readable by others") == 1 and SECRET not in caplog.text


# config files holding secrets ----------------------------------------------------
def test_config_file_with_a_secret_others_can_read_is_named_with_its_key(tmp_path):
    conf = tmp_path / "hub.conf"
    conf.write_text(f"[hub]\ntoken = {SECRET}\nlog_level = DEBUG\n[siridb]\npassword = pw-x\n")
    conf.chmod(0o644)
    config = load_config(HUB_OPTIONS, str(conf), env={})
    found = exposed_config_secrets(config)
    assert len(found) == 2
    assert all(str(conf) in text for text in found)
    assert "hub.token" in found[0] + found[1] and "siridb.password" in found[0] + found[1]
    assert not any(SECRET in text or "pw-x" in text for text in found)
    warned: list[str] = []
    assert warn_exposed_secrets(config, warned.append) == 2 and warned == found


def test_private_config_file_and_env_secrets_draw_no_warning(tmp_path):
    conf = tmp_path / "hub.conf"
    conf.write_text(f"[hub]\ntoken = {SECRET}\n")
    conf.chmod(0o600)
    assert exposed_config_secrets(load_config(HUB_OPTIONS, str(conf), env={})) == []
    shared = tmp_path / "shared.conf"
    shared.write_text("[hub]\ntoken =\nlog_level = INFO\n")  # an empty secret is no secret
    shared.chmod(0o644)
    config = load_config(HUB_OPTIONS, str(shared), env={"ENODO_HUB_TOKEN": SECRET})
    assert exposed_config_secrets(config) == []


def test_config_errors_never_show_a_secret_value(tmp_path):
    options = [Option("x", "key", int, 0, secret=True), Option("x", "curve", str, "",
                                                            check_z85_key, secret=True)]
    with pytest.raises(ConfigError) as err:
        load_config(options, env={"ENODO_X_KEY": SECRET})
    assert "x.key" in str(err.value) and SECRET not in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config(options, env={"ENODO_X_CURVE": SECRET})
    assert "x.curve" in str(err.value) and SECRET not in str(err.value)


# CURVE keys ----------------------------------------------------------------------
def test_z85_key_check():
    public, secret = zmq.curve_keypair()
    assert check_z85_key(public.decode()) is None and check_z85_key("") is None
    assert check_z85_key("short") and check_z85_key("~" * 40) and check_z85_key("é" * 40)


def test_hub_curve_generates_keys_once_in_data_dir(tmp_path):
    assert hub_curve(False, "", "", str(tmp_path)) == (None, None)
    server, public_file = hub_curve(True, "", "", str(tmp_path))
    assert isinstance(server, CurveServer)
    assert public_file == str(tmp_path / "hub.key")
    assert mode_of(tmp_path / "hub.key_secret") == 0o600
    assert "secret-key" not in (tmp_path / "hub.key").read_text()
    again, _ = hub_curve(True, "", "", str(tmp_path))
    assert again.secret_key == server.secret_key
    client = client_curve("worker", "", public_file)
    assert isinstance(client, CurveClient) and client.server_key == server.public_key


def test_a_stale_public_key_file_is_replaced_whole_never_rewritten_in_place(tmp_path):
    server, public_file = hub_curve(True, "", "", str(tmp_path))
    with open(public_file, "w") as fh:
        fh.write("stale")
    with open(public_file) as reader:  # a peer's operator copying it at that moment
        hub_curve(True, "", "", str(tmp_path))
        assert reader.read() == "stale"  # its file was replaced, not truncated under it
    assert zmq.auth.load_certificate(public_file) == (server.public_key, None)
    assert stat.S_IMODE(os.stat(public_file).st_mode) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["hub.key", "hub.key_secret"]  # no temporary left


def test_curve_keys_from_config_and_bad_ones(tmp_path):
    public, secret = zmq.curve_keypair()
    server, public_file = hub_curve(True, secret.decode(), "", str(tmp_path))
    assert server.public_key == public and public_file is None
    assert not os.listdir(tmp_path)
    assert client_curve("api", public.decode(), "").server_key == public
    assert client_curve("api", "", "") is None
    with pytest.raises(ConfigError, match="api.curve_server_key_file"):
        client_curve("api", "", str(tmp_path / "missing.key"))
    (tmp_path / "bad.key_secret").write_text('curve\n    public-key = "x"\n')
    with pytest.raises(ConfigError, match="hub.curve_secret_key_file") as err:
        hub_curve(True, "", str(tmp_path / "bad.key_secret"), str(tmp_path))
    assert secret.decode() not in str(err.value)
