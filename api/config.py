"""Configuration of the REST API processes (section `api`), read once per process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from actors.common.auth import DEFAULT_TOKEN_FILE, TokenSource, token_source
from actors.common.config import (
    Config,
    ConfigError,
    Option,
    non_negative,
    positive,
    siridb_options,
)
from actors.common.config import load_config as _load_config
from actors.common.curve_keys import client_curve
from api.console.history import HistoryReader, SiriDBAddress
from api.deadline import DEFAULT_BODY_TIMEOUT
from api.hub_client import DEFAULT_HUB_ADDRESS, DEFAULT_TIMEOUT, HubClient
from protocol.curve import check_z85_key

#: Environment variable naming the INI file; unset means defaults plus env overrides.
CONFIG_ENV = "ENODO_API_CONFIG"


def _zmq_address(value: str) -> str | None:
    """Check for a ZMQ address (tcp://, ipc:// or inproc://)."""
    if value.startswith(("tcp://", "ipc://", "inproc://")) and len(value) > 7:
        return None
    return "must be a ZMQ address such as tcp://127.0.0.1:5563"


OPTIONS = (
    Option("api", "hub_address", str, DEFAULT_HUB_ADDRESS, _zmq_address,
           doc="the hub's api socket"),
    Option("api", "timeout", float, DEFAULT_TIMEOUT, positive,
           doc="seconds to wait for the hub's reply; past it the request is answered 503"),
    Option("api", "body_timeout", float, DEFAULT_BODY_TIMEOUT, positive,
           doc="seconds a request body may take to arrive; past it 408"),
    Option("api", "signing_key", str, "", secret=True,
           doc="HMAC key signing every message, the hub's (empty: unsigned)"),
    Option("api", "token", str, "", secret=True,
           doc="the hub's token, sent with every request (empty: read from token_file)"),
    Option("api", "token_file", str, DEFAULT_TOKEN_FILE,
           doc="file holding the hub's token (re-read when it changes)"),
    Option("api", "bearer_token", str, "", secret=True,
           doc="token REST users send as `Authorization: Bearer` (both empty: REST is open)"),
    Option("api", "bearer_token_file", str, "",
           doc="or a file holding it"),
    Option("api", "read_token", str, "", secret=True,
           doc="read-only REST token: GET and HEAD only (needs a bearer token)"),
    Option("api", "read_token_file", str, "",
           doc="or a file holding it"),
    Option("api", "curve_server_key", str, "", check_z85_key,
           doc="the hub's CURVE public key in Z85, when the hub has curve = true"),
    Option("api", "curve_server_key_file", str, "",
           doc="or the hub's public certificate file (<data_dir>/hub.key)"),
    Option("api", "start_wait", float, 60.0, non_negative,
           doc="seconds the API waits at its start for curve_server_key_file, which the "
               "hub writes when it first starts"),
    # The console reads series history from SiriDB itself (the hub's loop stays free): the
    # same [siridb] section, and ENODO_SIRIDB_* variables, as the hub and the workers.
    *siridb_options("siridb"),
)


def load_api_config(env: Mapping[str, str] | None = None) -> Config:
    """Read the API's options: the file named by ENODO_API_CONFIG, then ENODO_API_<KEY>."""
    env = os.environ if env is None else env
    return _load_config(OPTIONS, env.get(CONFIG_ENV) or None, env)


def hub_client_from_config(config: Config) -> HubClient:
    """Build the HubClient the options describe (it opens no socket yet)."""
    key = config.get("api", "signing_key")
    return HubClient(
        address=config.get("api", "hub_address"),
        timeout=config.get("api", "timeout"),
        signing_key=key.encode() if key else None,
        token=token_source(config, "api"),
        curve=client_curve(
            "api", config.get("api", "curve_server_key"), config.get("api", "curve_server_key_file")
        ),
    )


def bearer_from_config(config: Config) -> TokenSource | None:
    """Return the REST bearer token's source, or None when REST needs no token."""
    source = token_source(config, "api", "bearer_token")
    return source if source.configured else None


def read_bearer_from_config(config: Config) -> TokenSource | None:
    """Return the read-only bearer token's source, or None; ConfigError if it cannot apply."""
    source = token_source(config, "api", "read_token")
    if not source.configured:
        return None
    if bearer_from_config(config) is None:
        # Without a full token REST is open to all: a read-only token would restrict nothing.
        raise ConfigError("api.read_token: needs api.bearer_token or api.bearer_token_file")
    return source


def history_from_config(config: Config) -> HistoryReader:
    """The console's SiriDB reader for the [siridb] section (opens no connection yet)."""
    section = config.section("siridb")
    return HistoryReader(SiriDBAddress(
        host=section["host"], port=section["port"], user=section["user"],
        password=section["password"], database=section["database"],
        timeout=config.get("api", "timeout"),
    ))


def wait_for_hub_key(config: Config, note: Callable[[str], None], poll: float = 0.1) -> bool:
    """Wait up to api.start_wait seconds for api.curve_server_key_file; False if still absent.

    The API and the hub start together (supervisord) and on a first start the hub has not yet
    written its public key: the API waits for it rather than exit with an error its supervisor
    soon gives up on. A key still missing afterwards fails the usual check, with its name.
    (The token file needs no wait: it is re-read until it appears.)
    """
    path = "" if config.get("api", "curve_server_key") else config.get(
        "api", "curve_server_key_file")
    if not path or os.path.exists(path):
        return True
    wait = config.get("api", "start_wait")
    note(f"waiting up to {wait:g} s for the hub to write its public key {path}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(poll)
        if os.path.exists(path):
            return True
    return False
