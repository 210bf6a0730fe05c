"""Where enodo-client finds its hub and token: flags, then ENODO_CLIENT_*, then a config file.

The file is $ENODO_CLIENT_CONFIG, else $XDG_CONFIG_HOME/enodo/client.conf
(~/.config/enodo/client.conf), else the .enodo/client.conf `make run` writes (in the current
directory, then in this checkout); section [client], the keys of OPTIONS. The token file
defaults to the one a `make run` hub keeps, found from the current directory
or from the checkout this client runs from, so the client works from anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from actors.common.config import Config, Option, load_config, positive

CHECKOUT = Path(__file__).resolve().parent.parent
DEFAULT_HUB = "tcp://127.0.0.1:5560"
DEFAULT_TIMEOUT = 5.0
TOKEN_FILE_CANDIDATES = (Path(".enodo/hub/token"), CHECKOUT / ".enodo" / "hub" / "token")

OPTIONS = (
    Option("client", "hub", str, DEFAULT_HUB,
           doc="the hub's control socket"),
    Option("client", "timeout", float, DEFAULT_TIMEOUT, positive,
           doc="seconds to wait for the hub's answer"),
    Option("client", "token", str, "", secret=True,
           doc="the hub's token (empty: read from token_file)"),
    Option("client", "token_file", str, "",
           doc="file holding the hub's token (empty: .enodo/hub/token of the current directory, "
               "else of $ENODO_RUN_DIR, else of this checkout)"),
    Option("client", "signing_key", str, "", secret=True,
           doc="HMAC key signing every message, the hub's (empty: unsigned)"),
    Option("client", "curve_server_key", str, "",
           doc="the hub's CURVE public key in Z85, when the hub has curve = true"),
    Option("client", "curve_server_key_file", str, "",
           doc="or the hub's public certificate file (<data_dir>/hub.key)"),
    Option("client", "client_id", str, "",
           doc="id announced in HANDSHAKE (empty: one generated once, kept in "
               "$XDG_STATE_HOME/enodo/client-id)"),
)


def config_path(env: Mapping[str, str]) -> str | None:
    """The client's config file, or None when there is none."""
    named = env.get("ENODO_CLIENT_CONFIG")
    if named:
        return named  # named explicitly: a missing file is an error, said by load_config
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    # The user's own file, else the one `make run` writes for its stack (hub and token).
    for path in (Path(base) / "enodo" / "client.conf", Path(".enodo") / "client.conf",
                 CHECKOUT / ".enodo" / "client.conf"):
        if path.is_file():
            return str(path)
    return None


def load_client_config(env: Mapping[str, str] | None = None) -> Config:
    """Defaults, the config file, ENODO_CLIENT_<KEY> (raises ConfigError naming the key)."""
    env = os.environ if env is None else env
    return load_config(OPTIONS, config_path(env), env)


def default_token_file(env: Mapping[str, str] | None = None) -> str:
    """The token file of a `make run` hub: ./.enodo, $ENODO_RUN_DIR, or this checkout's."""
    env = os.environ if env is None else env
    candidates = list(TOKEN_FILE_CANDIDATES)
    if env.get("ENODO_RUN_DIR"):
        candidates.insert(1, Path(env["ENODO_RUN_DIR"]) / "hub" / "token")
    for path in candidates:
        if path.is_file():
            return str(path)
    return str(TOKEN_FILE_CANDIDATES[0])
