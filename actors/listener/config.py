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
    Option("listener", "hub_host", str, "127.0.0.1"),
    Option("listener", "control_port", int, 5560, port),
    Option("listener", "client_id", str, ""),
    Option("listener", "token", str, "", secret=True),
    Option("listener", "token_file", str, DEFAULT_TOKEN_FILE),
    Option("listener", "signing_key", str, "", secret=True),
    Option("listener", "curve_server_key", str, "", check_z85_key),
    Option("listener", "curve_server_key_file", str, ""),
    Option("listener", "tee_host", str, "127.0.0.1"),
    Option("listener", "tee_port", int, 9104, port),
    Option("listener", "tee_unix_path", str, ""),
    Option("listener", "update_interval", float, 1.0, positive),
    Option("listener", "max_package_size", int, tee_limits.DEFAULT_MAX_PACKAGE_SIZE, positive),
    Option("listener", "max_buffered", int, tee_limits.DEFAULT_MAX_BUFFERED, positive),
    Option("listener", "max_connections", int, tee_limits.DEFAULT_MAX_CONNECTIONS, positive),
    Option("listener", "package_timeout", float, tee_limits.DEFAULT_PACKAGE_TIMEOUT, positive),
    Option("listener", "idle_timeout", float, tee_limits.DEFAULT_IDLE_TIMEOUT, non_negative),
    Option("listener", "max_message_size", int, 16 * 1024 * 1024, positive),
    # Names of the tee remembered as seen, to match each against the hub's patterns once.
    Option("listener", "discovery_memory", int, 100_000, positive),
    Option("listener", "log_level", str, "INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR")),
    # Prometheus' /metrics (0: not served).
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
