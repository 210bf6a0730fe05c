"""SERVICE requests (type 32): the service account's database administration."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from .framing import Reply
from .query import VERSION
from .storage import PRECISIONS, Store
from .wire import pack_error, pack_open_list

log = logging.getLogger(__name__)

NEW_DATABASE = 3
DROP_DATABASE = 6
GET_VERSION = 64
GET_ACCOUNTS = 65
GET_DATABASES = 66

_DBNAME = re.compile(rb'[a-zA-Z][a-zA-Z0-9_-]{1,19}')


@dataclass
class ServiceAccount:
    """The service account's credentials (SiriDB's default is sa/siri)."""

    user: bytes = b'sa'
    password: bytes = b'siri'


def _text(raw: Any) -> str:
    return raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)


def handle_service(store: Store, account: ServiceAccount, body: Any) -> tuple[int, bytes]:
    """Answer one service request: (reply type, body)."""
    if (not isinstance(body, list) or len(body) != 4 or not isinstance(body[0], bytes)
            or not isinstance(body[1], bytes) or type(body[2]) is not int
            or not isinstance(body[3], dict)):
        return Reply.ERR_SERVICE_INVALID_REQUEST, b''
    user, password, request, args = body
    if user != account.user:
        return Reply.ERR_SERVICE, pack_error(f"cannot find service account: '{_text(user)}'")
    if password != account.password:
        return Reply.ERR_SERVICE, pack_error(
            f"incorrect password for service account '{_text(user)}'")
    if request == GET_VERSION:
        return Reply.ACK_SERVICE_DATA, pack_open_list([VERSION])
    if request == GET_ACCOUNTS:
        return Reply.ACK_SERVICE_DATA, pack_open_list([account.user])
    if request == GET_DATABASES:
        return Reply.ACK_SERVICE_DATA, pack_open_list(list(store.databases))
    if request == NEW_DATABASE:
        return _new_database(store, args)
    if request == DROP_DATABASE:
        name = _text(args.get(b'database', b''))
        if name not in store.databases:
            return Reply.ERR_SERVICE, pack_error(f"database not found: '{name}'")
        store.drop_database(name)
        return Reply.ACK_SERVICE, b''
    return Reply.ERR_SERVICE_INVALID_REQUEST, b''


def _new_database(store: Store, args: dict[Any, Any]) -> tuple[int, bytes]:
    raw_name = args.get(b'dbname')
    if not isinstance(raw_name, bytes) or not _DBNAME.fullmatch(raw_name):
        return Reply.ERR_SERVICE, pack_error(f"invalid database name: '{_text(raw_name)}'")
    name = raw_name.decode()
    precision = _text(args.get(b'time_precision', b'ms'))
    if precision not in PRECISIONS:
        return Reply.ERR_SERVICE, pack_error(f"invalid time precision: '{precision}'")
    if name in store.databases:
        return Reply.ERR_SERVICE, pack_error(f"database name already exists: '{name}'")
    store.create_database(name, precision)
    log.info('created database %r (time precision %s)', name, precision)
    return Reply.ACK_SERVICE, b''
