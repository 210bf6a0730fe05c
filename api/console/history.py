"""Recent history of a series for the console, read by the API process from SiriDB itself.

The hub's loop never sees these reads (it would stall while SiriDB answers): each page
view opens its own connection from the API process, speaks SiriDB's client protocol with
siridb-connector's own package format and constants, asks `select * from 'name' tail N`
and closes. The socket is an ordinary blocking one: under gunicorn's gevent worker it is
cooperative, so a slow SiriDB holds one greenlet, never the worker. Bounded: tail N, and a
timeout on every read.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import qpack
from siridb.connector.lib import protomap
from siridb.connector.lib.datapackage import DataPackage

from actors.common.siridb_queries import tail_query

HEADER = DataPackage.struct_datapackage  # <IHBB: length, pid, type, type ^ 255
#: Points shown on a series page at most.
HISTORY_POINTS = 500
#: Largest reply read (500 points are about 10 KB; anything far larger is not SiriDB).
MAX_REPLY = 8 * 1024 * 1024


class HistoryError(Exception):
    """SiriDB could not be asked or refused; the message says why (shown on the page)."""


@dataclass(frozen=True)
class SiriDBAddress:
    """Where and as whom to read (the [siridb] section the hub and workers use)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    timeout: float = 3.0


class HistoryReader:
    """Reads the last points of a series; one short connection per call."""

    def __init__(self, address: SiriDBAddress | None) -> None:
        self.address = address

    def tail(self, name: str, points: int = HISTORY_POINTS) -> list[tuple[int, float]]:
        """The series' last `points` points, oldest first; HistoryError when not readable."""
        if self.address is None or not self.address.host:
            raise HistoryError("the API has no SiriDB configured ([siridb] host)")
        a = self.address
        try:
            with socket.create_connection((a.host, a.port), timeout=a.timeout) as sock:
                sock.settimeout(a.timeout)
                _ask(sock, 1, protomap.CPROTO_REQ_AUTH, (a.user, a.password, a.database))
                data = _ask(sock, 2, protomap.CPROTO_REQ_QUERY, (tail_query(name, points), None))
        except OSError as exc:
            raise HistoryError(f"SiriDB at {a.host}:{a.port}: {exc}") from None
        if not isinstance(data, dict):
            raise HistoryError("SiriDB answered the query with no result")
        rows = data.get(name) or []
        return [(int(ts), float(value)) for ts, value in rows]


def _ask(sock: socket.socket, pid: int, tipe: int, data: Any) -> Any:
    body = qpack.packb(data)
    sock.sendall(HEADER.pack(len(body), pid, tipe, tipe ^ 255) + body)
    length, got_pid, answer, check = HEADER.unpack(_read(sock, HEADER.size))
    if check != answer ^ 255 or length > MAX_REPLY or got_pid != pid:
        raise HistoryError("SiriDB sent a malformed package")
    payload = _read(sock, length)
    decoded = qpack.unpackb(payload, decode="utf-8") if payload else None
    if answer >= protomap.CPROTO_ERR_MSG:
        message = decoded.get("error_msg") if isinstance(decoded, dict) else None
        raise HistoryError(f"SiriDB refused: {message or f'error package {answer}'}")
    return decoded


def _read(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 65536))
        if not chunk:
            raise HistoryError("SiriDB closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
