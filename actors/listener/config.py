"""The listener's configuration: options, defaults and checks."""

from __future__ import annotations

import socket

from actors.common.auth import DEFAULT_TOKEN_FILE
from actors.common.config import (
    Config,
    ConfigError,
    Option,
    load_config,
    non_negative,
    one_of,
    port,
    positive,
)
from actors.common.telemetry import metrics_options
from actors.listener import tee_limits
from actors.listener.tee_limits import TeeLimits
from protocol.curve import check_z85_key

OPTIONS = [
    Option("listener", "hub_host", str, "127.0.0.1",
           doc="host of the hub's control socket"),
    Option("listener", "control_port", int, 5560, port,
           doc="port of the hub's control socket"),
    Option("listener", "client_id", str, "",
           doc="stable id of this listener (empty: listener-<host name>)"),
    Option("listener", "token", str, "", secret=True,
           doc="the hub's token for HANDSHAKE (empty: read from token_file)"),
    Option("listener", "token_file", str, DEFAULT_TOKEN_FILE,
           doc="file holding the hub's token (re-read when it changes)"),
    Option("listener", "signing_key", str, "", secret=True,
           doc="HMAC key signing every message, the hub's (empty: unsigned)"),
    Option("listener", "curve_server_key", str, "", check_z85_key,
           doc="the hub's CURVE public key in Z85, when the hub has curve = true"),
    Option("listener", "curve_server_key_file", str, "",
           doc="or the hub's public certificate file (<data_dir>/hub.key)"),
    Option("listener", "tee_host", str, "127.0.0.1",
           doc="where SiriDB's tee connects (empty: TCP off)"),
    Option("listener", "tee_port", int, 9104, port,
           doc="port of the tee (alter database set tee '127.0.0.1:9104')"),
    Option("listener", "tee_unix_path", str, "",
           doc="Unix socket for SiriDB before 2.0.47 (tee_pipe_name; empty: off)"),
    Option("listener", "update_interval", float, 1.0, positive,
           doc="seconds between count reports to the hub (realtime series: at once)"),
    Option("listener", "max_package_size", int, tee_limits.DEFAULT_MAX_PACKAGE_SIZE, positive,
           doc="largest tee package in bytes; a larger one closes its connection"),
    Option("listener", "max_buffered", int, tee_limits.DEFAULT_MAX_BUFFERED, positive,
           doc="bytes of unfinished packages held across connections; past it reading pauses"),
    Option("listener", "max_connections", int, tee_limits.DEFAULT_MAX_CONNECTIONS, positive,
           doc="open tee connections (SiriDB opens one per server); more are refused"),
    Option("listener", "package_timeout", float, tee_limits.DEFAULT_PACKAGE_TIMEOUT, positive,
           doc="seconds a package may take from its first byte to its last"),
    Option("listener", "idle_timeout", float, tee_limits.DEFAULT_IDLE_TIMEOUT, non_negative,
           doc="seconds without a byte before a connection is closed (0: never)"),
    Option("listener", "max_message_size", int, 16 * 1024 * 1024, positive,
           doc="largest message in bytes to or from the hub"),
    Option("listener", "log_level", str, "INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR"),
           doc="log level"),
    Option("listener", "discovery_memory", int, 100_000, positive,
           doc="names of the tee remembered as seen, each matched against the hub's patterns "
               "once (docs/patterns.md)"),
    *metrics_options("listener", 9121),
]


def load_listener_config(path: str | None) -> Config:
    """Load and validate the listener's config (file, then ENODO_LISTENER_* env)."""
    return load_config(OPTIONS, path)


def default_client_id() -> str:
    """A client id stable across restarts on one machine."""
    return f"listener-{socket.gethostname()}"


def tee_limits_from_config(config: Config) -> TeeLimits:
    """The tee's limits from the options; ConfigError naming the key when they disagree."""
    opts = config.section("listener")
    keys = ("max_package_size", "max_buffered", "max_connections", "package_timeout",
            "idle_timeout")
    values = {key: opts[key] for key in keys}
    try:
        return TeeLimits(**values)
    except ValueError as exc:
        raise ConfigError(f"listener.{exc}") from None
