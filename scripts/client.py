"""enodo-client: add, remove, list and watch series through the hub's control socket.

Exit status: 0 done, 1 the hub answered an error, 2 hub not reachable in time (or
bad usage), 3 the hub refused the token.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from actors.common.auth import DEFAULT_TOKEN_FILE, TokenSource
from actors.common.config import ConfigError
from actors.common.curve_keys import client_curve
from actors.common.version import software_version
from scripts import client_format as fmt
from scripts.client_session import ClientSession, HandshakeRefused, HubUnreachable, SessionError
from scripts.client_watch import watch

DEFAULT_HUB = "tcp://127.0.0.1:5560"
DEFAULT_TIMEOUT = 5.0
EXIT_OK, EXIT_HUB_ERROR, EXIT_UNREACHABLE, EXIT_UNAUTHORIZED = 0, 1, 2, 3


def client_id_path(env: Mapping[str, str]) -> Path:
    """Where the generated client id is kept: $XDG_STATE_HOME/enodo/client-id."""
    base = env.get("XDG_STATE_HOME")
    if not base:
        base = str(Path(env.get("HOME", "~")).expanduser() / ".local" / "state")
    return Path(base) / "enodo" / "client-id"


def stable_client_id(path: Path) -> str:
    """Return the id stored at path, creating it on first use (stable across restarts)."""
    try:
        stored = path.read_text(encoding="utf-8").strip()
        if 0 < len(stored) <= 128:
            return stored
    except (OSError, UnicodeDecodeError):
        pass
    new_id = f"client-{uuid.uuid4().hex}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(new_id + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        print(f"warning: cannot keep the client id in {path}: {exc.strerror}", file=sys.stderr)
    return new_id


def _param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog="enodo-client", description=__doc__.split("\n")[0])
    parser.add_argument("--hub", default=DEFAULT_HUB,
                        help=f"the hub's control socket (default {DEFAULT_HUB})")
    parser.add_argument("--timeout", type=_positive, default=DEFAULT_TIMEOUT,
                        help="seconds to wait for the hub (default 5)")
    parser.add_argument("--client-id", help="client id (default: generated once and kept)")
    parser.add_argument("--token", default=os.environ.get("ENODO_CLIENT_TOKEN"),
                        help="hub token (default $ENODO_CLIENT_TOKEN)")
    parser.add_argument("--token-file",
                        default=os.environ.get("ENODO_CLIENT_TOKEN_FILE", DEFAULT_TOKEN_FILE),
                        help="file holding the hub token, read when --token is not given "
                             f"(default $ENODO_CLIENT_TOKEN_FILE or {DEFAULT_TOKEN_FILE})")
    parser.add_argument("--curve-server-key",
                        default=os.environ.get("ENODO_CLIENT_CURVE_SERVER_KEY"),
                        help="the hub's CURVE public key (Z85): encrypt the connection")
    parser.add_argument("--curve-server-key-file",
                        default=os.environ.get("ENODO_CLIENT_CURVE_SERVER_KEY_FILE"),
                        help="certificate file with the hub's CURVE public key (its hub.key)")
    parser.add_argument("--signing-key", default=os.environ.get("ENODO_CLIENT_SIGNING_KEY"),
                        help="HMAC key shared with the hub (default $ENODO_CLIENT_SIGNING_KEY)")
    parser.add_argument("--json", action="store_true", help="print raw JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="log protocol details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = sub.add_parser("add", help="watch a new series")
    add.add_argument("name")
    add.add_argument("--model", default=None, help="model name, e.g. arima, prophet")
    add.add_argument("--param", action="append", type=_param, default=[], metavar="KEY=VALUE",
                     help="model parameter (VALUE read as JSON when it parses)")
    add.add_argument("--realtime", action="store_true", help="count points at once")
    sub.add_parser("remove", help="stop watching a series").add_argument("name")
    sub.add_parser("list", help="list watched series")
    sub.add_parser("show", help="show one series").add_argument("name")
    sub.add_parser("clients", help="list known clients")
    watch_cmd = sub.add_parser("watch", help="print series updates as they come (Ctrl-C ends)")
    watch_cmd.add_argument("names", nargs="*", metavar="NAME",
                           help="series to follow (default: all)")
    return parser


def action_of(args: argparse.Namespace) -> tuple[str, dict[str, Any] | None]:
    """Return the API action and params a one-shot command sends."""
    if args.command == "add":
        params: dict[str, Any] = {"name": args.name}
        if args.model is not None:
            params["model"] = int(args.model) if args.model.isdigit() else args.model
        if args.param:
            params["model_parameters"] = dict(args.param)
        if args.realtime:
            params["realtime"] = True
        return "add_series", params
    if args.command in ("remove", "show"):
        return ("remove_series" if args.command == "remove" else "get_series"), {"name": args.name}
    return {"list": "list_series", "clients": "list_clients"}[args.command], None


def render(command: str, data: Any) -> str:
    """Return the human-readable output of a one-shot command."""
    if command == "list":
        return fmt.series_list(data)
    if command == "clients":
        return fmt.clients(data)
    if command == "remove":
        return f"removed {fmt.show_name(data.get('name', ''))}"
    if command == "add":
        return f"added {fmt.show_name(data.get('name', ''))}\n{fmt.key_values(data)}"
    return fmt.key_values(data)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one enodo-client command; return the exit status."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(message)s")
    try:
        curve = client_curve(
            "client", args.curve_server_key or "", args.curve_server_key_file or ""
        )
    except ConfigError as exc:
        print(f"enodo-client: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    session = ClientSession(
        args.hub,
        args.client_id or stable_client_id(client_id_path(os.environ)),
        version=software_version(),
        token=TokenSource(args.token or "", args.token_file or "")() or None,
        signing_key=args.signing_key.encode() if args.signing_key else None,
        timeout=args.timeout,
        curve=curve,
    )
    handshaken = False
    try:
        session.connect()
        handshaken = True
        if args.command == "watch":
            emit = (lambda m: print(fmt.to_json(m.body), file=out, flush=True)) if args.json else (
                lambda m: print(fmt.update_line(m), file=out, flush=True))
            watch(session, args.names or None, emit, lambda text: print(text, file=sys.stderr))
            return EXIT_OK
        action, params = action_of(args)
        data = session.request(action, params)
        print(fmt.to_json(data) if args.json else render(args.command, data), file=out)
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK if args.command == "watch" else 130
    except HandshakeRefused as exc:
        if exc.code == "unauthorized":
            print(f"hub refused the token: {exc.message}", file=sys.stderr)
            return EXIT_UNAUTHORIZED
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_HUB_ERROR
    except HubUnreachable as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_UNREACHABLE
    except SessionError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_HUB_ERROR
    finally:
        session.close(say_goodbye=handshaken)


if __name__ == "__main__":
    sys.exit(main())
