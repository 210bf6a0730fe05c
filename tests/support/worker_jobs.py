"""Worker jobs for unit tests: a seasonal series, a job body, a whole run on a SiriDB."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from actors.worker.jobs import JobRunner

HOUR = 3_600_000


def seasonal(n: int, start: int = 1_700_000_000_000) -> list[list]:
    """n hourly points of a daily sine with a little texture."""
    return [[start + i * HOUR, 20 + 5 * math.sin(2 * math.pi * i / 24) + 0.3 * math.cos(i)]
            for i in range(n)]


def body(series: str = "s", model: str = "arima", state: dict | None = None,
         **settings: Any) -> dict[str, Any]:
    """A job body as the hub sends it (horizon 6 unless given)."""
    return {"job_id": "j", "series": series, "model": model, "model_parameters": {},
            "state": state, "settings": {"horizon": 6, **settings}, "attempt": 0}


def run_job(db: Any, kind: str, job: dict[str, Any]) -> dict[str, Any]:
    """Run one job with the worker's JobRunner, db for reads and writes."""
    return asyncio.run(JobRunner(db, db, chunk_points=100).run(kind, job))
