"""The worker's configuration: options, SiriDB sections, and the worker's stable id."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from actors.common.auth import DEFAULT_TOKEN_FILE
from actors.common.config import (
    Config,
    ConfigError,
    Option,
    load_config,
    one_of,
    port,
    positive,
    siridb_options,
)
from actors.common.siridb_queries import MAX_HEAD_TAIL
from actors.common.telemetry import metrics_options
from protocol.curve import check_z85_key

DEFAULT_STATE_DIR = ".enodo/worker"
MAX_ID_LENGTH = 128
# Lock files tried when no id is configured: one per worker process on this machine.
MAX_LOCAL_WORKERS = 1024
OUTPUT_SECTION = "siridb_output"


def _output_options() -> list[Option]:
    # Every [siridb_output] key is text, empty meaning "same as [siridb]"; the port is
    # converted once resolved (see siridb_settings).
    return [
        dataclasses.replace(option, type=str, default="", check=None,
                            doc=f"{option.key} of where results go (empty: [siridb]'s)")
        for option in siridb_options(OUTPUT_SECTION)
    ]


def _chunk_points(value: int) -> str | None:
    """Check for 1 to 1,000,000 (SiriDB answers `tail N` only in that range)."""
    if 1 <= value <= MAX_HEAD_TAIL:
        return None
    return f"must be 1 to {MAX_HEAD_TAIL} (SiriDB's limit on tail/head), got {value}"


OPTIONS = [
    Option("worker", "hub_host", str, "127.0.0.1",
           doc="host of the hub's control and results sockets"),
    Option("worker", "control_port", int, 5560, port,
           doc="port of the hub's control socket (the session; jobs come this way)"),
    Option("worker", "results_port", int, 5562, port,
           doc="port of the hub's results socket"),
    Option("worker", "worker_id", str, "",
           doc="stable id, one per worker (empty: <host>-<n>, n a free lock in state_dir; --id N "
               "gives <base>-N)"),
    Option("worker", "token", str, "", secret=True,
           doc="the hub's token for HANDSHAKE (empty: read from token_file)"),
    Option("worker", "token_file", str, DEFAULT_TOKEN_FILE,
           doc="file holding the hub's token (re-read when it changes)"),
    Option("worker", "signing_key", str, "", secret=True,
           doc="HMAC key signing every message, the hub's (empty: unsigned)"),
    Option("worker", "curve_server_key", str, "", check_z85_key,
           doc="the hub's CURVE public key in Z85, when the hub has curve = true"),
    Option("worker", "curve_server_key_file", str, "",
           doc="or the hub's public certificate file (<data_dir>/hub.key)"),
    Option("worker", "log_level", str, "INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR"),
           doc="log level"),
    Option("worker", "state_dir", str, DEFAULT_STATE_DIR,
           doc="folder of the worker's id locks"),
    Option("worker", "heartbeat_interval", float, 1.0, positive,
           doc="seconds between heartbeats until the hub's HANDSHAKE_OK says its own"),
    Option("worker", "liveness", int, 3, positive,
           doc="heartbeats missed before the hub counts as gone"),
    Option("worker", "reconnect_min", float, 0.5, positive,
           doc="first wait in seconds before reconnecting to a silent hub (it doubles)"),
    Option("worker", "reconnect_max", float, 30.0, positive,
           doc="longest such wait"),
    Option("worker", "shutdown_grace", float, 10.0, positive,
           doc="seconds to finish the current job on SIGTERM before handing it back"),
    Option("worker", "job_credit", int, 2, positive,
           doc="jobs a worker holds at once: one running, the rest ready to start the moment "
               "it ends (announced as the handshake's capacity)"),
    Option("worker", "child_start_timeout", float, 120.0, positive,
           doc="seconds the model process may take to start (its imports)"),
    Option("worker", "max_message_size", int, 16 * 1024 * 1024, positive,
           doc="largest message in bytes to or from the hub"),
    Option("worker", "read_chunk_points", int, 100_000, _chunk_points,
           doc="points per query when reading a long history"),
    Option("worker", "siridb_timeout", float, 10.0, positive,
           doc="seconds to connect to SiriDB (a query may take six times as long)"),
    *siridb_options("siridb"),
    *_output_options(),
    *metrics_options("worker", 9123, "; a worker started with --id N listens on this + N"),
]


@dataclass(frozen=True)
class SiriDBSettings:
    """Where and how to reach one SiriDB database (picklable, for the model child)."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def describe(self) -> str:
        """Return host:port/database, for logs and errors (no credentials)."""
        return f"{self.host}:{self.port}/{self.database}"


def load_worker_config(path: str | None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate the worker's config (file, then ENODO_<SECTION>_<KEY> env)."""
    config = load_config(OPTIONS, path, env)
    siridb_settings(config)  # validates [siridb_output] now rather than at the first job
    return config


def siridb_settings(config: Config) -> tuple[SiriDBSettings, SiriDBSettings]:
    """Return the input and output SiriDB settings; output keys default to [siridb]'s."""
    source = config.section("siridb")
    output: dict[str, Any] = {}
    for key, value in config.section(OUTPUT_SECTION).items():
        output[key] = value if value != "" else source[key]
    if isinstance(output["port"], str):
        text = output["port"]
        try:
            output["port"] = int(text)
        except ValueError:
            raise ConfigError(f"{OUTPUT_SECTION}.port: must be int, got {text!r}") from None
        problem = port(output["port"])
        if problem:
            raise ConfigError(f"{OUTPUT_SECTION}.port: {problem}")
    return SiriDBSettings(**source), SiriDBSettings(**output)


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "worker"


class WorkerIdentity:
    """The worker's client id, and the lock that keeps it ours while we run."""

    def __init__(self, worker_id: str, lock: IO[str] | None = None) -> None:
        self.worker_id = worker_id
        self._lock = lock

    def release(self) -> None:
        """Release the id's lock file (if one was taken)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def resolve_identity(
    configured: str, suffix: str | None, state_dir: str, hostname: str | None = None
) -> WorkerIdentity:
    """Choose the worker id: configured or host name, plus --id, or a locked local number.

    With `--id N` (supervisord's %(process_num)s) the id is `<base>-N`. With neither a
    configured id nor --id, the id is `<host>-<n>` with the lowest n whose lock file in
    state_dir no other process holds: stable across restarts, distinct per process.
    """
    base = configured.strip() or _clean(hostname or socket.gethostname())
    if suffix is not None:
        return WorkerIdentity(_fit(f"{base}-{_clean(suffix)}"))
    if configured.strip():
        return WorkerIdentity(_fit(base))
    try:
        os.makedirs(state_dir, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"worker.state_dir: cannot create {state_dir}: {exc.strerror}") from None
    for number in range(1, MAX_LOCAL_WORKERS + 1):
        path = os.path.join(state_dir, f"worker-{number}.lock")
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open as the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        worker_id = _fit(f"{base}-{number}")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{worker_id} {os.getpid()}\n")
        handle.flush()
        return WorkerIdentity(worker_id, handle)
    raise ConfigError(f"worker.state_dir: all {MAX_LOCAL_WORKERS} local worker ids are in use")


def _fit(worker_id: str) -> str:
    if len(worker_id) <= MAX_ID_LENGTH:
        return worker_id
    # Keep the distinguishing end (the number) when a long host name must be cut.
    return worker_id[-MAX_ID_LENGTH:]
