"""Command line entry point: `enodo-siridb-dev` (or python -m scripts.siridb_dev.main)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from .persist import SqliteJournal
from .server import SiriDevServer
from .service import ServiceAccount
from .storage import PRECISIONS, Store
from .tee import TeeAddressError, format_tee_address, parse_tee_address

log = logging.getLogger('siridb_dev')


def build_parser() -> argparse.ArgumentParser:
    """The command line options."""
    p = argparse.ArgumentParser(
        prog='enodo-siridb-dev',
        description='SiriDB-compatible development server (client protocol, tee).')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=9000, help='0 picks a free port')
    p.add_argument('--dbname', default='dbtest',
                   help="database created at start if missing; '' creates none")
    p.add_argument('--time-precision', default='ms', choices=PRECISIONS)
    p.add_argument('--user', default='iris')
    p.add_argument('--password', default='siri')
    p.add_argument('--storage', default='memory', help="'memory' or a PATH.sqlite file")
    p.add_argument('--tee', default=None, help='initial tee address HOST[:PORT]')
    p.add_argument('--unix-socket', default=None, help='also listen on this Unix socket')
    p.add_argument('--service-user', default='sa')
    p.add_argument('--service-password', default='siri')
    p.add_argument('--select-delay', type=float, default=0.0, metavar='SECONDS',
                   help='answer every select this late (fault injection for tests)')
    p.add_argument('--log-level', default='INFO')
    return p


def open_store(args: argparse.Namespace) -> tuple[Store, SqliteJournal | None]:
    """Load or create the store and the configured database."""
    journal = None if args.storage == 'memory' else SqliteJournal(args.storage)
    store = Store(journal)
    if journal is not None:
        journal.load(store)
    if args.dbname:
        db = store.databases.get(args.dbname)
        if db is None:
            db = store.create_database(args.dbname, args.time_precision)
        elif db.time_precision != args.time_precision:
            log.warning('database %r keeps its time precision %s', db.name, db.time_precision)
        db.users = {args.user.encode(): args.password.encode()}
        if args.tee:
            db.tee = format_tee_address(*parse_tee_address(args.tee))
        db.save_settings()
    return store, journal


async def serve(args: argparse.Namespace) -> None:
    """Run until SIGTERM or SIGINT."""
    store, journal = open_store(args)
    account = ServiceAccount(args.service_user.encode(), args.service_password.encode())
    server = SiriDevServer(store, account, select_delay=args.select_delay)
    port = await server.listen_tcp(args.host, args.port)
    if args.unix_socket:
        await server.listen_unix(args.unix_socket)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info('listening on %s:%d', args.host, port)
    sys.stdout.write(f'READY port={port}\n')
    sys.stdout.flush()
    await stop.wait()
    log.info('stopping')
    await server.close()
    if journal is not None:
        journal.close()


def main(argv: list[str] | None = None) -> int:
    """Parse options, serve, return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    if args.tee:
        try:
            parse_tee_address(args.tee)
        except TeeAddressError:
            log.error('--tee: invalid address %r; expecting HOST[:PORT]', args.tee)
            return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == '__main__':
    sys.exit(main())
