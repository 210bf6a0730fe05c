"""Hostile input on the development SiriDB's client port (light: it is not a production socket).

Each case is one connection sending SiriDB-framed packages (any type, right or wrong check
byte, QPack-ish bodies, lying lengths) and random bytes. Afterwards the server must answer
PING on a new connection, and at the end an authenticated query still returns the points
inserted before the fuzz.
"""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scripts.siridb_dev.testing import DevServer
from tests.fuzz.cases import fuzz_settings, tried
from tests.fuzz.strategies import tee_bodies

HEADER = struct.Struct("<IHBB")
PING = HEADER.pack(0, 7, 3, 3 ^ 0xFF)
KNOWN_TYPES = [0, 1, 2, 3, 32, 64, 255]


@st.composite
def packages(draw: st.DrawFn) -> bytes:
    """One package: header with a random type (mostly real ones) and a right or wrong check."""
    body = draw(tee_bodies() | st.binary(max_size=40))
    kind = draw(st.sampled_from(KNOWN_TYPES) | st.integers(0, 255))
    check = kind ^ 0xFF if draw(st.integers(0, 3)) else draw(st.integers(0, 255))
    length = len(body) + draw(st.sampled_from([0, 0, 0, 1, -1, 2**31]))
    return HEADER.pack(max(0, min(length, 2**32 - 1)), draw(st.integers(0, 65535)), kind,
                       check) + body


def ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(PING)
        reply = b""
        while len(reply) < HEADER.size:
            chunk = conn.recv(64)
            assert chunk, "connection closed without an answer to PING"
            reply += chunk
    return reply


async def _query(port: int, query: str) -> dict:
    from siridb.connector import SiriDBClient

    client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)])
    await client.connect()
    try:
        return await client.query(query)
    finally:
        client.close()


@pytest.fixture(scope="module")
def server():
    with DevServer(dbname="dbtest") as db:
        asyncio.run(_insert(db.port))
        yield db


async def _insert(port: int) -> None:
    from siridb.connector import SiriDBClient

    client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)])
    await client.connect()
    try:
        await client.insert({"fuzz.kept": [[1000, 1], [2000, 2]]})
    finally:
        client.close()


def devserver_property(server: DevServer, examples: int) -> None:
    @fuzz_settings(examples)
    @given(data=st.lists(packages() | st.binary(min_size=1, max_size=40), min_size=1,
                         max_size=3))
    def feed(data):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            try:
                for chunk in data:
                    conn.sendall(chunk)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # closed by the server: a wrong check byte does that
        assert ping(server.port) == HEADER.pack(0, 7, 3, 3 ^ 0xFF)
        assert server.proc.poll() is None, server.log_tail()
        tried("dev SiriDB client port")

    feed()
    result = asyncio.run(_query(server.port, "select * from 'fuzz.kept'"))
    assert result == {"fuzz.kept": [[1000, 1], [2000, 2]]}


def test_devserver_survives_hostile_packages(server):
    devserver_property(server, 40)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_devserver_survives_hostile_packages_deep(server):
    devserver_property(server, 1500)
