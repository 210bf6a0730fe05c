"""`make run`: start the whole stack under supervisord in the foreground (Ctrl-C stops it).

Before anything starts: the ports (scripts/stack_env.py) are chosen and checked free, the
hub token is generated (so no peer starts without it), unknown ENODO_* variables are
named. Then supervisord replaces this process, every program run by this Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from actors.common.auth import hub_token
from actors.common.config import ConfigError
from scripts.stack_env import (
    ROOT,
    PortError,
    check_free,
    choose_ports,
    known_env_names,
    port_table,
    process_env,
    unknown_env_warnings,
)


def prepare(environ: dict[str, str]) -> dict[str, str]:
    """The environment supervisord runs with (raises PortError, ConfigError)."""
    run_dir = Path(environ.get("ENODO_RUN_DIR") or ROOT / ".enodo").resolve()
    ports = choose_ports(environ)
    check_free(ports)
    for sub in ("logs", "hub"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    env = dict(environ, ENODO_ROOT=str(ROOT), ENODO_RUN_DIR=str(run_dir),
               ENODO_PYTHON=sys.executable, **process_env(ports))
    env.setdefault("ENODO_HUB_DATA_DIR", str(run_dir / "hub"))
    env.setdefault("ENODO_WORKER_STATE_DIR", str(run_dir / "worker"))
    # The API (and the demo) read configs/api.conf: the hub token and the REST bearer
    # token both come from the file the hub keeps in its data_dir.
    env.setdefault("ENODO_API_CONFIG", str(ROOT / "configs" / "api.conf"))
    # Made now, not by the hub at its start: peers starting first would log token errors.
    _, token_file = hub_token(env.get("ENODO_HUB_TOKEN", ""), env.get("ENODO_HUB_TOKEN_FILE", ""),
                              env["ENODO_HUB_DATA_DIR"])
    if token_file:
        for var in ("LISTENER_TOKEN_FILE", "WORKER_TOKEN_FILE", "API_TOKEN_FILE",
                    "API_BEARER_TOKEN_FILE", "CLIENT_TOKEN_FILE"):
            env.setdefault(f"ENODO_{var}", token_file)
    # enodo-client run in the project directory finds this stack's hub and token here.
    client_conf = f"[client]\nhub = {env['ENODO_CLIENT_HUB']}\n"
    if token_file:
        client_conf += f"token_file = {token_file}\n"
    (run_dir / "client.conf").write_text(client_conf, encoding="utf-8")
    return env


def console_url(env: dict[str, str]) -> str:
    """Where the operator console answers (the REST API's gunicorn, under /ui/)."""
    return f"http://127.0.0.1:{env['ENODO_API_PORT']}/ui/"


def main() -> int:
    """Check, say what is taken, then exec supervisord with configs/supervisord.conf."""
    for warning in unknown_env_warnings(os.environ, known_env_names()):
        print(warning, file=sys.stderr)
    try:
        env = prepare(dict(os.environ))
    except (PortError, ConfigError) as exc:
        print(f"enodo: {exc}", file=sys.stderr)
        return 2
    run_dir = env["ENODO_RUN_DIR"]
    print(f"Starting Enodo (logs in {run_dir}/logs); Ctrl-C stops everything. Ports:\n"
          f"{port_table(choose_ports(env))}\n"
          f"Console: {console_url(env)} (log in with the token in "
          f"{env.get('ENODO_API_BEARER_TOKEN_FILE') or 'api.bearer_token'})", flush=True)
    supervisord = str(Path(sys.executable).parent / "supervisord")
    os.chdir(ROOT)
    os.execve(supervisord, [supervisord, "-n", "-c", str(ROOT / "configs" / "supervisord.conf")],
              env)
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main())
