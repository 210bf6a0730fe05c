"""The hub's configuration: options, defaults and checks."""

from __future__ import annotations

from actors.common.config import (
    Config,
    Option,
    load_config,
    one_of,
    port,
    positive,
    siridb_options,
)
from actors.common.telemetry import metrics_options
from protocol.curve import check_z85_key

DEFAULT_DATA_DIR = ".enodo/hub"


OPTIONS = [
    Option("hub", "bind_host", str, "127.0.0.1"),
    Option("hub", "control_port", int, 5560, port),
    Option("hub", "results_port", int, 5562, port),
    Option("hub", "api_port", int, 5563, port),
    Option("hub", "data_dir", str, DEFAULT_DATA_DIR),
    Option("hub", "token", str, "", secret=True),
    Option("hub", "token_file", str, ""),
    Option("hub", "signing_key", str, "", secret=True),
    Option("hub", "curve", bool, False),
    Option("hub", "curve_secret_key", str, "", check_z85_key, secret=True),
    Option("hub", "curve_secret_key_file", str, ""),
    Option("hub", "heartbeat_interval", float, 1.0, positive),
    Option("hub", "liveness", int, 3, positive),
    Option("hub", "max_message_size", int, 16 * 1024 * 1024, positive),
    # The control socket's inbound limit: what any connection, handshaken or not, may send
    # at once (listeners' counts are sent in chunks well below it).
    Option("hub", "control_max_message_size", int, 1024 * 1024, positive),
    Option("hub", "log_level", str, "INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR")),
    # Warnings of one kind (e.g. "bad message") written per window; the rest are counted.
    Option("hub", "log_repeat_burst", int, 10, positive),
    Option("hub", "log_repeat_window", float, 60.0, positive),
    Option("hub", "siridb_check_interval", float, 10.0, positive),
    # A trained series is stale after this many analysed intervals without a new point (and
    # at least stale_min_seconds): its "stale" rule fires (docs/rules.md).
    Option("hub", "stale_factor", float, 10.0, positive),
    Option("hub", "stale_min_seconds", float, 60.0, positive),
    # Prometheus' /metrics (0: not served).
    *metrics_options("hub", 9120),
    *siridb_options("siridb"),
]


def load_hub_config(path: str | None) -> Config:
    """Load and validate the hub's config (file, then ENODO_HUB_* / ENODO_SIRIDB_* env)."""
    return load_config(OPTIONS, path)
