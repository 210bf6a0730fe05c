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
    Option("hub", "bind_host", str, "127.0.0.1",
           doc="interface the hub's sockets bind to (loopback unless you say otherwise)"),
    Option("hub", "control_port", int, 5560, port,
           doc="ROUTER of listeners, workers (their session: jobs go this way) and clients"),
    Option("hub", "results_port", int, 5562, port,
           doc="PULL of the workers' results (each carries its worker's session MAC)"),
    Option("hub", "api_port", int, 5563, port,
           doc="ROUTER answering the REST API's REQ sockets"),
    Option("hub", "data_dir", str, DEFAULT_DATA_DIR,
           doc="folder of the SQLite state, the token and the CURVE keys (one hub per folder)"),
    Option("hub", "token", str, "", secret=True,
           doc="the token every peer presents in HANDSHAKE and the REST API in every request "
               "(empty: read from token_file, generated there on the first start)"),
    Option("hub", "token_file", str, "",
           doc="where the token is kept (empty: <data_dir>/token, mode 0600)"),
    Option("hub", "signing_key", str, "", secret=True,
           doc="HMAC-SHA256 key signing every message (empty: unsigned; every peer the same)"),
    Option("hub", "curve", bool, False,
           doc="CurveZMQ encryption of the hub's sockets (peers then need its public key)"),
    Option("hub", "curve_secret_key", str, "", check_z85_key, secret=True,
           doc="the hub's CURVE secret key (empty: read from curve_secret_key_file)"),
    Option("hub", "curve_secret_key_file", str, "",
           doc="where the secret key is kept (empty: <data_dir>/hub.key_secret, generated with the "
               "public hub.key)"),
    Option("hub", "heartbeat_interval", float, 1.0, positive,
           doc="seconds between heartbeats, both ways (told to peers in HANDSHAKE_OK)"),
    Option("hub", "liveness", int, 3, positive,
           doc="heartbeats missed before a peer counts as gone"),
    Option("hub", "max_message_size", int, 16 * 1024 * 1024, positive,
           doc="largest message in bytes on the api and results sockets"),
    Option("hub", "control_max_message_size", int, 1024 * 1024, positive,
           doc="largest message in bytes on the control socket (any connection may send this "
               "much, handshaken or not; listeners send counts in far smaller chunks)"),
    Option("hub", "log_level", str, "INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR"),
           doc="log level"),
    Option("hub", "log_repeat_burst", int, 10, positive,
           doc="warnings of one kind written per log_repeat_window; the rest are counted"),
    Option("hub", "log_repeat_window", float, 60.0, positive,
           doc="seconds of the window of log_repeat_burst"),
    Option("hub", "siridb_check_interval", float, 10.0, positive,
           doc="seconds between checks of the hub's SiriDB connection"),
    Option("hub", "alert_grace", float, 60.0, positive,
           doc="seconds a system trouble (no listener, no worker, SiriDB down) lasts before "
               "its alert fires (docs/alerts.md)"),
    Option("hub", "alert_max_queue_age", float, 600.0, positive,
           doc="seconds the oldest queued job may wait before a system alert fires"),
    Option("hub", "alert_check_interval", float, 5.0, positive,
           doc="seconds between checks for system alerts"),
    Option("hub", "stale_factor", float, 10.0, positive,
           doc="a trained series is stale after this many analysed intervals without a new "
               "point: its \"stale\" rule fires (docs/rules.md)"),
    Option("hub", "stale_min_seconds", float, 60.0, positive,
           doc="the shortest time without a new point that makes a series stale"),
    *metrics_options("hub", 9120),
    *siridb_options("siridb"),
]


def load_hub_config(path: str | None) -> Config:
    """Load and validate the hub's config (file, then ENODO_HUB_* / ENODO_SIRIDB_* env)."""
    return load_config(OPTIONS, path)
