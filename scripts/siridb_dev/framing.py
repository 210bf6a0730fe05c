"""SiriDB package framing: the 8-byte header and the package type numbers."""

from __future__ import annotations

import enum
import struct

HEADER = struct.Struct('<IHBB')
HEADER_SIZE = HEADER.size
# SiriDB logs and closes the connection when a body announces more than this.
MAX_BODY_SIZE = 40 * 1024 * 1024


class Request(enum.IntEnum):
    """Package types a client sends (CPROTO_REQ_*)."""

    QUERY = 0
    INSERT = 1
    AUTH = 2
    PING = 3
    SERVICE = 32


class Reply(enum.IntEnum):
    """Package types the server answers with (CPROTO_RES_*, CPROTO_ERR_*)."""

    RES_QUERY = 0
    RES_INSERT = 1
    AUTH_SUCCESS = 2
    ACK = 3
    ACK_SERVICE = 32
    ACK_SERVICE_DATA = 33
    ERR_MSG = 64
    ERR_QUERY = 65
    ERR_INSERT = 66
    ERR_SERVER = 67
    ERR_POOL = 68
    ERR_USER_ACCESS = 69
    ERR = 70
    NOT_AUTHENTICATED = 71
    AUTH_CREDENTIALS = 72
    AUTH_UNKNOWN_DB = 73
    ERR_SERVICE = 96
    ERR_SERVICE_INVALID_REQUEST = 97


def check_byte(tp: int) -> int:
    """Return the check byte SiriDB expects for package type `tp`."""
    return tp ^ 0xFF


def pack_package(pid: int, tp: int, body: bytes = b'') -> bytes:
    """Frame a client-protocol package: header with the check byte, then body."""
    return HEADER.pack(len(body), pid, tp, check_byte(tp)) + body


def pack_tee_package(body: bytes) -> bytes:
    """Frame a tee package: a standalone server sends pid, type and check all 0."""
    return HEADER.pack(len(body), 0, 0, 0) + body


def unpack_header(data: bytes) -> tuple[int, int, int, int]:
    """Split an 8-byte header into (length, pid, type, check)."""
    return HEADER.unpack(data)
