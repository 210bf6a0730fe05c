"""Check one host's supervisord files before starting them: `python -m scripts.check_deploy`.

Parses configs/supervisord/host.conf with supervisord's own parser for the roles of this host
(ENODO_ROLES, or --roles), then loads the Enodo config each program names with that actor's
own checks (unknown keys, types, ranges), with the environment the program will have. Prints
each program's command; exits 2 naming the first problem. ENODO_ROOT, ENODO_PYTHON and
ENODO_RUN_DIR default to this checkout, this Python and ./.enodo (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from supervisor.options import ServerOptions

from actors.common.config import ConfigError, Option, load_config
from api.config import CONFIG_ENV
from scripts.stack_env import ROOT, option_tables

HOST_CONF = ROOT / "configs" / "supervisord" / "host.conf"


class DeployError(Exception):
    """A host's files cannot run as they are; the message says which and why."""


@dataclass(frozen=True)
class Program:
    """One process supervisord would start: its name, command line and environment."""

    name: str
    argv: list[str]
    env: dict[str, str]


def options_of(argv: list[str]) -> list[Option] | None:
    """The config options of the actor a command runs (None: not an Enodo actor)."""
    tables = option_tables()
    return next((tables[word] for word in argv if word in tables), None)


def programs(host_conf: Path, env: Mapping[str, str]) -> list[Program]:
    """The programs supervisord would run with host_conf under env (DeployError if it cannot)."""
    saved = dict(os.environ)
    os.environ.update(env)  # supervisord expands %(ENV_X)s from its own environment
    try:
        section = ServerOptions().read_config(str(host_conf))
    except ValueError as exc:
        raise DeployError(f"supervisord cannot use {host_conf}: {exc}") from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    found = [Program(p.name, shlex.split(p.command), dict(p.environment or {}))
             for group in section.process_group_configs for p in group.process_configs]
    if not found:
        raise DeployError(f"no program in {host_conf} for ENODO_ROLES={env.get('ENODO_ROLES')!r}")
    return found


def check(program: Program, env: Mapping[str, str]) -> str:
    """Load the program's Enodo config as it will (ConfigError names the key)."""
    if not os.access(program.argv[0], os.X_OK):
        raise DeployError(f"{program.name}: {program.argv[0]} is not an executable (ENODO_PYTHON)")
    options = options_of(program.argv)
    if options is None:
        return "not an Enodo actor: not checked"
    full_env = {**env, **program.env}
    if "--config" in program.argv:
        path = program.argv[program.argv.index("--config") + 1]
    else:  # the REST API: the file named by ENODO_API_CONFIG
        path = full_env.get(CONFIG_ENV)
    try:
        load_config(options, path, full_env)
    except ConfigError as exc:
        raise DeployError(f"{program.name}: {exc}") from None
    return f"config {os.path.normpath(path) if path else '(defaults)'} ok"


def host_env(environ: Mapping[str, str], roles: Iterable[str] | None) -> dict[str, str]:
    """The environment supervisord would run with: environ, the defaults, --roles."""
    env = dict(environ)
    env.setdefault("ENODO_ROOT", str(ROOT))
    env.setdefault("ENODO_PYTHON", sys.executable)
    env.setdefault("ENODO_RUN_DIR", str(Path.cwd() / ".enodo"))
    env.setdefault("ENODO_WORKERS", "1")
    if roles is not None:
        env["ENODO_ROLES"] = " ".join(roles)
    if not env.get("ENODO_ROLES", "").strip():
        raise DeployError("name this host's roles: ENODO_ROLES or --roles (e.g. worker.conf)")
    return env


def main(argv: list[str] | None = None) -> int:
    """Print each program of this host and whether its config loads; 2 on the first problem."""
    parser = argparse.ArgumentParser(prog="check_deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--roles", nargs="+", metavar="FILE",
                        help="role files of configs/supervisord/ (default: ENODO_ROLES)")
    parser.add_argument("--host-conf", type=Path, default=HOST_CONF)
    args = parser.parse_args(argv)
    try:
        env = host_env(os.environ, args.roles)
        for program in programs(args.host_conf, env):
            print(f"{program.name:<10} {shlex.join(program.argv)}\n{'':<10} {check(program, env)}")
    except DeployError as exc:
        print(f"check_deploy: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
