"""Worker outputs in a SiriDB (the development server) through the real siridb-connector.

A forecast replaces its output series: after any number of runs each holds exactly
`horizon` points, with the outputs in the input database or in one of their own, at any
drop_threshold. Anomalies are appended once however often a job is redone.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
import qpack

from actors.common.siridb_queries import (
    MAX_PLAIN_NAME_BYTES,
    WIDEST_TS,
    between_query,
    name_problem,
)
from actors.worker.config import SiriDBSettings
from actors.worker.jobs import JobRunner
from actors.worker.siridb_io import SiriDB, SiriDBQueryFailed
from scripts.siridb_dev.testing import DevServer
from tests.support.memory_siridb import MemorySiriDB
from tests.support.worker_jobs import body, run_job, seasonal

HORIZON = 6
OUTPUTS = ("enodo.s.forecast", "enodo.s.lower", "enodo.s.upper")
_databases = iter(range(1000))


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(dbname=None) as srv:
        yield srv


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """A trained model of the series (training needs no SiriDB of its own here)."""
    return run_job(MemorySiriDB({"s": seasonal(300)}), "train", body(max_points=200))["state"]


def create_database(srv: DevServer, precision: str = "ms") -> SiriDBSettings:
    """A new, empty database on the server (SERVICE new-database)."""
    name = f"outputs{next(_databases)}"
    payload = qpack.packb([b"sa", b"siri", 3, {"dbname": name, "time_precision": precision}])
    with socket.create_connection((srv.host, srv.port), timeout=10) as sock:
        sock.sendall(struct.pack("<IHBB", len(payload), 1, 32, 32 ^ 0xFF) + payload)
        assert struct.unpack("<IHBB", sock.recv(8))[2] == 32
    return SiriDBSettings(srv.host, srv.port, "iris", "siri", name)


async def lengths(db: SiriDB, names: tuple[str, ...]) -> dict[str, int]:
    reply = await db.query("list series name, length")
    found = {row[0]: row[1] for row in reply["series"]}
    return {name: found.get(name, 0) for name in names}


def run_closing(work: Any, *dbs: SiriDB) -> Any:
    """Run work() in a loop of its own; the connections close inside it."""
    async def wrapped() -> Any:
        try:
            return await asyncio.wait_for(work(), 60)
        finally:
            for db in dbs:
                db.close()
            await asyncio.sleep(0)  # let the closed transports finish

    return asyncio.run(wrapped())


def forecast_three_times(reader: SiriDB, writer: SiriDB, state: dict[str, Any],
                         threshold: float) -> list[dict[str, int]]:
    async def scenario() -> list[dict[str, int]]:
        await reader.insert({"s": seasonal(300)})
        await writer.query(f"alter database set drop_threshold {threshold}")
        runner = JobRunner(reader, writer, chunk_points=100)
        seen = []
        for _ in range(3):
            await runner.run("forecast", body(state=state, horizon=HORIZON))
            seen.append(await lengths(writer, OUTPUTS))
        return seen

    return run_closing(scenario, reader, writer)


@pytest.mark.parametrize("threshold", [1.0, 0.5, 0.0])
def test_outputs_in_a_database_of_their_own_are_replaced(server, state, threshold):
    # At the default 1.0 SiriDB refused to drop the last output series left (.upper), and
    # it grew by a forecast per run.
    reader = SiriDB(create_database(server))
    writer = SiriDB(create_database(server))
    for seen in forecast_three_times(reader, writer, state, threshold):
        assert seen == dict.fromkeys(OUTPUTS, HORIZON)


@pytest.mark.parametrize("threshold", [1.0, 0.0])
def test_outputs_beside_the_input_are_replaced(server, state, threshold):
    shared = SiriDB(create_database(server))
    for seen in forecast_three_times(shared, shared, state, threshold):
        assert seen == dict.fromkeys(OUTPUTS, HORIZON)


def test_outputs_in_a_database_of_another_precision(server, state):
    reader = SiriDB(create_database(server, "ms"))
    writer = SiriDB(create_database(server, "s"))
    for seen in forecast_three_times(reader, writer, state, 1.0):
        assert seen == dict.fromkeys(OUTPUTS, HORIZON)


def test_anomalies_are_written_once_however_often_the_job_runs(server, state):
    reader = SiriDB(create_database(server))
    writer = SiriDB(create_database(server))

    async def scenario() -> tuple[list[Any], list[Any]]:
        await reader.insert({"s": seasonal(300)})
        runner = JobRunner(reader, writer, chunk_points=100)
        first = await runner.run("forecast", body(state=state, horizon=HORIZON))
        forecast = first["forecast"]
        stamps = forecast["timestamps"]
        # The next two points arrive: one as forecast, one far outside the interval.
        await reader.insert({"s": [[stamps[0], forecast["mean"][0]],
                                   [stamps[1], forecast["mean"][1] - 99]]})
        job = body(state=state, horizon=HORIZON)
        job["context"] = {"previous_forecast": forecast}
        found = [(await runner.run("forecast", job))["anomalies"] for _ in range(3)]
        held = await writer.select("select * from 'enodo.s.anomalies'", "enodo.s.anomalies")
        return found, held

    found, held = run_closing(scenario, reader, writer)
    assert [len(anomalies) for anomalies in found] == [1, 1, 1]
    assert [ts for ts, _ in held] == [found[0][0]["timestamp"]]


def test_the_longest_name_enodo_accepts_works_on_an_ns_database(server):
    name = "n" * MAX_PLAIN_NAME_BYTES
    assert name_problem(name) is None and name_problem(name + "n") is not None
    db = SiriDB(create_database(server, "ns"))
    points = [[ts * 10**6, value] for ts, value in seasonal(300)]

    async def scenario() -> tuple[dict[str, int], str]:
        await db.insert({name: points})
        runner = JobRunner(db, db, chunk_points=100)
        trained = await runner.run("train", body(series=name, max_points=200))
        first = await runner.run("forecast", body(series=name, state=trained["state"],
                                                  horizon=HORIZON))
        stamps = first["forecast"]["timestamps"]
        await db.insert({name: [[stamps[0], 1e6]]})
        job = body(series=name, state=trained["state"], horizon=HORIZON)
        job["context"] = {"previous_forecast": first["forecast"]}
        second = await runner.run("forecast", job)
        assert second["points"] == 1 and len(second["anomalies"]) == 1
        outputs = tuple(f"enodo.{name}.{kind}" for kind in ("forecast", "lower", "upper"))
        held = await lengths(db, outputs + (f"enodo.{name}.anomalies",))
        # One byte more and the longest query no longer fits.
        longer = f"enodo.{name}n.anomaly_events"
        try:
            await db.query(between_query(longer, WIDEST_TS, WIDEST_TS))
        except SiriDBQueryFailed as exc:
            return held, str(exc)
        return held, "answered"

    held, refusal = run_closing(scenario, db)
    assert list(held.values()) == [HORIZON, HORIZON, HORIZON, 1]
    assert refusal == "Query too long."
