"""The console's SiriDB reader against the development SiriDB: tail N, oldest first, and a
clear error for each way a read fails (nothing listening, refused login, none configured)."""

from __future__ import annotations

import asyncio

import pytest
from siridb.connector import SiriDBClient

from api.console.history import HistoryError, HistoryReader, SiriDBAddress
from scripts.siridb_dev.testing import DevServer
from tests.support.waiting import free_port

NAME = "room 'b'/temp"


@pytest.fixture(scope="module")
def db():
    with DevServer(dbname="dbtest") as server:
        async def fill() -> None:
            client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", server.port)])
            await client.connect()
            try:
                await client.insert({NAME: [[1_700_000_000_000 + i, float(i)] for i in range(50)]})
            finally:
                client.close()

        asyncio.run(fill())
        yield server


def reader(port: int, password: str = "siri") -> HistoryReader:
    return HistoryReader(SiriDBAddress("127.0.0.1", port, "iris", password, "dbtest", 2.0))


def test_tail_reads_the_last_points_oldest_first(db):
    points = reader(db.port).tail(NAME, 10)
    assert points == [(1_700_000_000_000 + i, float(i)) for i in range(40, 50)]


def test_failures_say_what_went_wrong(db):
    with pytest.raises(HistoryError, match="SiriDB refused"):
        reader(db.port, password="wrong").tail(NAME, 10)
    port = free_port()
    with pytest.raises(HistoryError, match=f"SiriDB at 127.0.0.1:{port}"):
        reader(port).tail(NAME, 10)
    with pytest.raises(HistoryError, match="no SiriDB configured"):
        HistoryReader(None).tail(NAME, 10)
