"""The server as a process: clean stop, Unix socket, framing limits, service requests."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import qpack

from scripts.siridb_dev.testing import DevServer

HEADER = struct.Struct('<IHBB')


def package(pid: int, tp: int, body: object = None) -> bytes:
    raw = b'' if body is None else qpack.packb(body)
    return HEADER.pack(len(raw), pid, tp, tp ^ 0xFF) + raw


def read_package(conn: socket.socket) -> tuple[int, int, bytes]:
    header = conn.recv(8, socket.MSG_WAITALL)
    length, pid, tp, _ = HEADER.unpack(header)
    return pid, tp, conn.recv(length, socket.MSG_WAITALL) if length else b''


def test_sigterm_stops_with_exit_code_zero() -> None:
    server = DevServer().start()
    try:
        assert server.stop() == 0
    finally:
        server.close()


def test_unix_socket_serves_the_same_protocol(tmp_path: Path) -> None:
    path = str(tmp_path / 'siridb.sock')
    with DevServer(unix_socket=path), socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(10)
        conn.connect(path)
        conn.sendall(package(1, 2, ['iris', 'siri', 'dbtest']))
        assert read_package(conn) == (1, 2, b'')
        conn.sendall(package(2, 0, ['show dbname', None]))
        pid, tp, body = read_package(conn)
        assert (pid, tp) == (2, 0)
        assert qpack.unpackb(body, decode='utf-8') == {
            'data': [{'name': 'dbname', 'value': 'dbtest'}]}


def test_oversized_body_closes_the_connection() -> None:
    with DevServer() as server, socket.create_connection((server.host, server.port), 10) as c:
        c.sendall(HEADER.pack(40 * 1024 * 1024 + 1, 1, 3, 3 ^ 0xFF))
        assert c.recv(1) == b''


def test_service_requests_manage_databases() -> None:
    with DevServer(dbname=None) as server:
        def service(pid: int, request: int, args: dict[str, str]) -> tuple[int, int, bytes]:
            with socket.create_connection((server.host, server.port), 10) as conn:
                conn.sendall(package(pid, 32, ['sa', 'siri', request, args]))
                return read_package(conn)

        assert service(1, 3, {'dbname': 'second', 'time_precision': 's'}) == (1, 32, b'')
        assert service(2, 66, {}) == (2, 33, b'\xfc\x86second')
        pid, tp, body = service(3, 3, {'dbname': 'x', 'time_precision': 's'})
        assert (pid, tp) == (3, 96)
        assert service(4, 6, {'database': 'second'}) == (4, 32, b'')
        assert service(5, 66, {}) == (5, 33, b'\xfc')
