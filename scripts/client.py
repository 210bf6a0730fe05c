"""enodo-client: every hub action (series, forecasts, anomalies, settings, jobs) from a shell.

Exit status: 0 done, 1 the hub answered an error, 2 hub not reachable in time (or
bad usage), 3 the hub refused the token.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from actors.common.auth import TokenSource
from actors.common.config import ConfigError
from actors.common.curve_keys import client_curve
from actors.common.version import software_version
from protocol.envelope import Message
from scripts import client_format as fmt
from scripts.client_commands import action_of, add_commands, list_pages, render
from scripts.client_config import DEFAULT_HUB, default_token_file, load_client_config
from scripts.client_patterns import follow_pattern
from scripts.client_session import ClientSession, HandshakeRefused, HubUnreachable, SessionError
from scripts.client_watch import follow_job, watch

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


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (defaults None: the config and environment fill in)."""
    parser = argparse.ArgumentParser(prog="enodo-client", description=__doc__.split("\n")[0])
    parser.add_argument("--hub", help=f"the hub's control socket ($ENODO_CLIENT_HUB, the config "
                                      f"file's hub, else {DEFAULT_HUB})")
    parser.add_argument("--timeout", type=_positive,
                        help="seconds to wait for the hub (default 5)")
    parser.add_argument("--client-id", help="client id (default: generated once and kept)")
    parser.add_argument("--token", help="hub token (default $ENODO_CLIENT_TOKEN)")
    parser.add_argument("--token-file",
                        help="file holding the hub token, read when --token is not given "
                             "(default $ENODO_CLIENT_TOKEN_FILE, else the `make run` hub's)")
    parser.add_argument("--curve-server-key",
                        help="the hub's CURVE public key (Z85): encrypt the connection")
    parser.add_argument("--curve-server-key-file",
                        help="certificate file with the hub's CURVE public key (its hub.key)")
    parser.add_argument("--signing-key",
                        help="HMAC key shared with the hub (default $ENODO_CLIENT_SIGNING_KEY)")
    parser.add_argument("--json", action="store_true", help="print raw JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="log protocol details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_commands(sub)
    watch_cmd = sub.add_parser("watch", help="print one line per change as it comes (Ctrl-C ends)")
    watch_cmd.add_argument("names", nargs="*", metavar="NAME",
                           help="series to follow (default: all)")
    watch_cmd.add_argument("--all", action="store_true",
                           help="also every job state change (queued, running, done)")
    return parser


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """Each connection setting: the flag, else ENODO_CLIENT_<KEY>, else the config file."""
    config = load_client_config()
    chosen = {key: getattr(args, key, None) for key in
              ("hub", "timeout", "token", "token_file", "signing_key", "curve_server_key",
               "curve_server_key_file", "client_id")}
    for key, value in chosen.items():
        if value is None:
            chosen[key] = config.get("client", key)
    chosen["token_file"] = chosen["token_file"] or default_token_file()
    return chosen


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one enodo-client command; return the exit status."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(message)s")
    try:
        opts = settings_of(args)
        curve = client_curve(
            "client", opts["curve_server_key"] or "", opts["curve_server_key_file"] or ""
        )
    except ConfigError as exc:
        print(f"enodo-client: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    session = ClientSession(
        opts["hub"],
        opts["client_id"] or stable_client_id(client_id_path(os.environ)),
        version=software_version(),
        token=TokenSource(opts["token"] or "", opts["token_file"] or "")() or None,
        signing_key=opts["signing_key"].encode() if opts["signing_key"] else None,
        timeout=opts["timeout"],
        curve=curve,
    )
    handshaken = False
    try:
        session.connect()
        handshaken = True
        if args.command == "watch":
            watch(session, args.names or None, update_printer(args, out),
                  lambda text: print(text, file=sys.stderr))
            return EXIT_OK
        if args.command == "queue" and args.wait:
            session.subscribe([args.name])  # before queuing: no state change can slip by
        action, params = action_of(args)
        if args.command == "list":
            data = list_pages(session.request, params, args.limit)
        else:
            data = session.request(action, params)
        print(fmt.to_json(data) if args.json else render(args.command, data), file=out)
        if args.command == "pattern-add" and args.wait:
            follow_pattern(session.request, data["id"],
                           lambda text: print(text, file=sys.stderr, flush=True))
            return EXIT_OK
        if args.command == "queue" and args.wait:
            return follow_job(session, args.name, args.job,
                              lambda text: print(text, file=sys.stderr, flush=True))
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


def update_printer(args: argparse.Namespace, out: TextIO) -> Callable[[Message], None]:
    """How watch prints: JSON bodies, or one line per change (job states only with --all)."""
    def emit(msg: Message) -> None:
        if args.json:
            print(fmt.to_json(msg.body), file=out, flush=True)
        elif args.all or fmt.is_change(msg):
            print(fmt.update_line(msg), file=out, flush=True)
    return emit


if __name__ == "__main__":
    sys.exit(main())
