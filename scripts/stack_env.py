"""The environment of `make run`: which ports, which directories, which variables exist.

One table, PORTS, says every port the stack listens on and the variable that moves it;
ENODO_PORT_BASE moves them all at once (base + offset). From those the variables each
process reads (hub, listener, workers, API, demo, client) are derived, so a second stack
on the same host needs one variable.
"""

from __future__ import annotations

import difflib
import errno
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from actors.common.config import Option

ROOT = Path(__file__).resolve().parent.parent
BASE_VAR = "ENODO_PORT_BASE"


@dataclass(frozen=True)
class Port:
    """One listening port of the stack."""

    var: str
    default: int
    offset: int
    what: str
    span: int = 1  # ports taken from the value on (the workers' metrics: one each)


PORTS = (
    Port("ENODO_API_PORT", 8000, 0, "REST API (gunicorn)"),
    Port("ENODO_SIRIDB_PORT", 9000, 1, "development SiriDB (client protocol)"),
    Port("ENODO_TEE_PORT", 9104, 2, "listener (SiriDB's tee)"),
    Port("ENODO_HUB_CONTROL_PORT", 5560, 3, "hub control socket (listener, workers, clients)"),
    Port("ENODO_HUB_RESULTS_PORT", 5562, 4, "hub results socket (workers)"),
    Port("ENODO_HUB_API_PORT", 5563, 5, "hub api socket (the REST API)"),
    Port("ENODO_HUB_METRICS_PORT", 9120, 6, "hub metrics (Prometheus /metrics)"),
    Port("ENODO_LISTENER_METRICS_PORT", 9121, 7, "listener metrics"),
    Port("ENODO_API_METRICS_PORT", 9122, 8, "REST API metrics (gunicorn master)"),
    Port("ENODO_WORKER_METRICS_PORT", 9123, 9, "worker metrics (worker N: this + N)", span=2),
)
#: Workers `make run` starts (numprocs of [program:worker] in configs/supervisord.conf).
WORKERS = 2
#: The highest offset taken (ENODO_PORT_BASE + this is the last port of a stack).
LAST_OFFSET = max(p.offset + p.span - 1 for p in PORTS)
#: Variables of `make run` itself (besides the ports).
RUN_VARS = ("ENODO_PORT_BASE", "ENODO_RUN_DIR", "ENODO_ROOT", "ENODO_BIN")


class PortError(Exception):
    """A port of the table is not usable; the message says which and what to do."""


def choose_ports(env: Mapping[str, str]) -> dict[str, int]:
    """Each port variable's value: set explicitly, else base + offset, else the default."""
    base_text = env.get(BASE_VAR, "").strip()
    try:
        base = int(base_text) if base_text else None
        chosen = {}
        for port in PORTS:
            own = env.get(port.var, "").strip()
            value = int(own) if own else (port.default if base is None else base + port.offset)
            if not 1 <= value <= 65535:
                raise ValueError(f"{port.var}={value}")
            chosen[port.var] = value
    except ValueError as exc:
        raise PortError(f"ports must be integers in 1..65535 ({BASE_VAR} + {LAST_OFFSET} "
                        f"too): {exc}") from None
    return chosen


def check_free(ports: Mapping[str, int], host: str = "127.0.0.1") -> None:
    """Raise PortError naming the first port another process holds (before anything starts)."""
    what = {p.var: p.what for p in PORTS}
    span = {p.var: p.span for p in PORTS}
    for var, value in _each_port(ports, span):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # As the servers bind: TIME_WAIT leftovers of a stack just stopped do not count.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, value))
            except OSError as exc:
                reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror
                raise PortError(
                    f"port {value} ({what[var]}, {var}) is {reason}: is another Enodo stack "
                    f"running? Nothing was started. Move this one with {BASE_VAR}=N "
                    f"(ports N..N+{LAST_OFFSET}) or set {var}."
                ) from None


def _each_port(ports: Mapping[str, int], span: Mapping[str, int]) -> list[tuple[str, int]]:
    return [(var, value + i) for var, value in ports.items() for i in range(span.get(var, 1))]


def metrics_urls(ports: Mapping[str, int], workers: int = WORKERS) -> dict[str, str]:
    """Each actor's /metrics URL, as `make run` prints them (worker N: base port + N)."""
    urls = {
        "hub": ports["ENODO_HUB_METRICS_PORT"],
        "listener": ports["ENODO_LISTENER_METRICS_PORT"],
        "api": ports["ENODO_API_METRICS_PORT"],
        **{f"worker-{n}": ports["ENODO_WORKER_METRICS_PORT"] + n for n in range(workers)},
    }
    return {name: f"http://127.0.0.1:{port}/metrics" for name, port in urls.items()}


def process_env(ports: Mapping[str, int]) -> dict[str, str]:
    """The variables each process reads, derived from the port table."""
    p = {var.removeprefix("ENODO_").lower(): str(v) for var, v in ports.items()}
    hub = "tcp://127.0.0.1:"
    return {
        "ENODO_HUB_CONTROL_PORT": p["hub_control_port"],
        "ENODO_HUB_RESULTS_PORT": p["hub_results_port"],
        "ENODO_HUB_API_PORT": p["hub_api_port"],
        "ENODO_SIRIDB_PORT": p["siridb_port"],
        "ENODO_LISTENER_CONTROL_PORT": p["hub_control_port"],
        "ENODO_LISTENER_TEE_PORT": p["tee_port"],
        "ENODO_WORKER_CONTROL_PORT": p["hub_control_port"],
        "ENODO_WORKER_RESULTS_PORT": p["hub_results_port"],
        "ENODO_API_HUB_ADDRESS": hub + p["hub_api_port"],
        "ENODO_API_BIND": "127.0.0.1:" + p["api_port"],
        "ENODO_API_PORT": p["api_port"],
        "ENODO_TEE_PORT": p["tee_port"],
        "ENODO_CLIENT_HUB": hub + p["hub_control_port"],
        "ENODO_HUB_METRICS_PORT": p["hub_metrics_port"],
        "ENODO_LISTENER_METRICS_PORT": p["listener_metrics_port"],
        "ENODO_WORKER_METRICS_PORT": p["worker_metrics_port"],
        "ENODO_API_METRICS_BIND": "127.0.0.1:" + p["api_metrics_port"],
    }


def port_table(ports: Mapping[str, int]) -> str:
    """The ports taken, as printed by `make run`."""
    what = {p.var: p.what for p in PORTS}
    return "\n".join(f"  {value:>5}  {what[var]:<48} {var}" for var, value in ports.items())


ENV_NAME = re.compile(r"ENODO_[A-Z0-9_]*[A-Z0-9]")
#: Files whose ENODO_* names are read outside the config tables (gunicorn, API, client, demo).
SCANNED = ("configs/gunicorn.conf.py", "api/config.py", "scripts/client.py",
           "scripts/client_config.py", "scripts/run_stack.py", "scripts/demo.py",
           "scripts/check_deploy.py")


def option_tables() -> dict[str, list[Option]]:
    """Each actor's option table, by what a command line names to run it."""
    from actors.hub.config import OPTIONS as HUB
    from actors.listener.config import OPTIONS as LISTENER
    from actors.worker.config import OPTIONS as WORKER
    from api.config import OPTIONS as API

    return {"actors.hub.main": list(HUB), "actors.listener.main": list(LISTENER),
            "actors.worker.main": list(WORKER), "api.wsgi:app": list(API)}


def known_env_names(root: Path = ROOT) -> set[str]:
    """Every ENODO_* variable some part of the stack reads."""
    names = {o.env_name for table in option_tables().values() for o in table}
    names |= {p.var for p in PORTS} | set(RUN_VARS)
    for rel in SCANNED:
        try:
            names |= set(ENV_NAME.findall((root / rel).read_text(encoding="utf-8")))
        except OSError:
            continue
    return names


def unknown_env_warnings(env: Mapping[str, str], known: set[str]) -> list[str]:
    """A warning for each ENODO_* variable nothing reads (a typo is otherwise silent)."""
    warnings = []
    for name in sorted(n for n in env if n.startswith("ENODO_") and n not in known):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"warning: {name} is set but no part of Enodo reads it{hint}")
    return warnings
