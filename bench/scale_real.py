"""The scale bench's real mode: the development SiriDB with every seeded series, real workers.

With `bench/scale.py --real-workers N` the seeded series exist in a development SiriDB
(scripts/siridb_dev, in memory) with --history hourly points each, a daily cycle and a
trend; the store holds for each the default model's state, trained once here on that same
history (a real state the workers forecast from, at the cost of one training instead of one
per series), and a detector that has judged up to the last point. N enodo-worker processes
(configured through ENODO_WORKER_* as under supervisord) run the forecast jobs for real:
the model's forecast, the SiriDB read and judging of new points, the forecast written back.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path
from typing import Any

from actors.hub.models import check_model
from scripts.siridb_dev.testing import DevServer
from tests.support.hub import HubProcess
from tests.support.worker import WorkerProcess

DATABASE = "dbtest"
HOUR_MS = 3_600_000
INSERT_BATCH = 200  # series per insert request


def history(n: int, end_ms: int, seed: int = 0) -> list[list[Any]]:
    """n hourly points up to end_ms: a daily cycle, a slow trend and some wobble."""
    start = end_ms - (n - 1) * HOUR_MS
    return [[start + i * HOUR_MS, 50.0 + 10.0 * math.sin(2 * math.pi * i / 24) + 0.01 * i
             + 0.5 * math.sin(i * 1.7 + seed)] for i in range(n)]


def trained_state(points: list[list[Any]]) -> tuple[str, dict]:
    """The default model's name and a state trained on points, as a worker's TRAIN makes it."""
    from actors.worker.models.registry import get_model
    from protocol.settings import defaults

    name, params = check_model(defaults()["default_model"], {})
    state = get_model(name).train([p[0] for p in points], [p[1] for p in points], params)
    return name, state


async def _insert(port: int, names: list[str], points: int, end_ms: int) -> None:
    from siridb.connector import SiriDBClient

    client = SiriDBClient("iris", "siri", DATABASE, [("127.0.0.1", port)])
    await client.connect()
    try:
        for at in range(0, len(names), INSERT_BATCH):
            batch = names[at:at + INSERT_BATCH]
            await client.insert({name: history(points, end_ms, at + k)
                                 for k, name in enumerate(batch)}, timeout=120)
    finally:
        client.close()


def start_siridb(names: list[str], points: int, end_ms: int) -> tuple[DevServer, float]:
    """A development SiriDB holding `points` points of every name; (server, seconds taken)."""
    started = time.monotonic()
    db = DevServer(dbname=DATABASE, startup_timeout=60.0).start()
    asyncio.run(_insert(db.port, names, points, end_ms))
    return db, time.monotonic() - started


async def _listed(port: int) -> set[str]:
    from siridb.connector import SiriDBClient

    client = SiriDBClient("iris", "siri", DATABASE, [("127.0.0.1", port)])
    await client.connect()
    try:
        reply = await client.query("list series", timeout=120)
    finally:
        client.close()
    return {row[0].decode() if isinstance(row[0], bytes) else row[0] for row in reply["series"]}


def forecasts_written(db: DevServer, names: list[str]) -> int:
    """How many of names have a forecast series in SiriDB (written by a worker's job)."""
    from actors.common.siridb_queries import output_series

    listed = asyncio.run(_listed(db.port))
    return sum(output_series(name)["forecast"] in listed for name in names)


def siridb_env(db: DevServer) -> dict[str, str]:
    """The hub's SiriDB settings for the development server."""
    return {"ENODO_SIRIDB_HOST": "127.0.0.1", "ENODO_SIRIDB_PORT": str(db.port),
            "ENODO_SIRIDB_DATABASE": DATABASE}


def start_workers(tmp: Path, hub: HubProcess, db: DevServer, n: int) -> list[WorkerProcess]:
    """n enodo-worker processes against the hub and the SiriDB (each its own state dir)."""
    workers = []
    for index in range(n):
        workers.append(WorkerProcess(tmp, hub.ports, db.port, index, database=DATABASE, extra={
            "ENODO_WORKER_WORKER_ID": "scale-real", "ENODO_WORKER_LOG_LEVEL": "WARNING",
            "ENODO_WORKER_STATE_DIR": str(tmp / f"worker-state-{index}"),
            "ENODO_WORKER_RECONNECT_MIN": "0.1", "ENODO_WORKER_RECONNECT_MAX": "1",
            "ENODO_WORKER_SHUTDOWN_GRACE": "1", "ENODO_SIRIDB_TIMEOUT": "10",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                       os.environ.get("PYTHONPATH")])),
        }).start())
    return workers


def stop_all(workers: list[WorkerProcess], db: DevServer | None) -> None:
    """Stop the workers and the SiriDB (those still running)."""
    for worker in workers:
        try:
            worker.stop()
        except Exception:  # noqa: BLE001 - a bench's clean-up: kill what did not end
            if worker.proc is not None:
                worker.proc.kill()
    if db is not None:
        db.stop()
