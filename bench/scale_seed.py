"""Seeding a hub's store with many watched series, as a hub that ran for a while has them.

The rows are the hub's own records (Series.config(), Series.runtime(), the store's schema),
written with one executemany per table and one commit, while no hub runs: 100,000 series
take a few seconds instead of the minutes 100,000 add_series requests would (each one a
handshaken round trip, an event row and a SERIES_ADDED to every listener).

Each series is trained (a small model state), has its last forecast and detector state
stored (as a refreshed series has), and a point count spread over [0, fit_every) so that
the listeners' counts make jobs fall due evenly rather than all at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from actors.hub.detection import check_anomaly_settings
from actors.hub.models import check_model
from actors.hub.series import Series
from actors.hub.store import Store, _dumps

#: Rows per executemany (bounds the seeder's memory at a million series).
CHUNK = 20_000
HOUR_MS = 3_600_000
TS0 = 1_700_000_000_000


def series_name(i: int) -> str:
    """The i-th bench series: hosts of ten metrics, as a SiriDB of servers holds them."""
    return f"scale.host{i // 10:06d}.metric{i % 10}"


def forecast(horizon: int, seed: int) -> dict:
    """A stored forecast of horizon hourly points (the shape apply_result keeps)."""
    rng = random.Random(seed)
    mean = [round(100 + rng.gauss(0, 5), 3) for _ in range(horizon)]
    return {"timestamps": [TS0 + k * HOUR_MS for k in range(horizon)], "mean": mean,
            "lower": [round(m - 6.5, 3) for m in mean], "upper": [round(m + 6.5, 3) for m in mean],
            "level": 0.95}


def model_state(seed: int) -> dict:
    """A model state about the size of a fitted ARIMA's (a few hundred bytes)."""
    rng = random.Random(seed)
    return {"kind": "arima", "order": [1, 1, 1], "seasonal_order": [0, 0, 0, 0],
            "params": [round(rng.uniform(-1, 1), 6) for _ in range(8)],
            "sigma2": round(rng.uniform(0.5, 3.0), 6), "last_ts": TS0, "nobs": 500}


def _rows(n: int, fit_every: int, now: float, model_name: str) -> Iterator[tuple[str, str, str]]:
    model, params = check_model(model_name, {})
    anomaly = check_anomaly_settings(None)
    rng = random.Random(1)
    for i in range(n):
        series = Series(series_name(i), model, params, False, now - 86_400, anomaly=anomaly)
        series.points_counted = 500 + rng.randrange(fit_every)
        series.points_siridb, series.counted_at_reconcile, series.in_siridb = 500, 500, True
        series.since_fit = series.points_counted - 500
        series.since_train = series.since_fit
        series.trained_at = series.forecast_at = now - rng.uniform(0, 300)
        for kind in ("train", "forecast"):
            series.jobs[kind].update(state="done", updated_at=series.trained_at,
                                     worker="seed-worker")
        yield series.name, _dumps(series.config()), _dumps(series.runtime())


def seed_store(data_dir: str, n: int, fit_every: int, horizon: int, model: str = "arima",
               state: dict | None = None, last_ts: int = TS0) -> dict[str, float]:
    """Write n trained series (with model, forecast, detector) into data_dir's store.

    With `state` (a real model's, bench/scale_real.py) every series holds it under `model`
    and its detector has judged up to last_ts; otherwise stand-in ARIMA states.
    Returns the seconds taken and the rows written. The store must hold no hub's lock.
    """
    started = time.monotonic()
    store = Store(data_dir)
    db = store.db
    now = time.time()
    db.execute("BEGIN")
    rows = _rows(n, fit_every, now, model)
    detector = _dumps({"last_ts": last_ts, "flags": [0] * 20, "quiet": 0})
    while True:
        chunk = [row for _, row in zip(range(CHUNK), rows, strict=False)]
        if not chunk:
            break
        db.executemany("INSERT INTO series (name, config, runtime) VALUES (?, ?, ?)", chunk)
        names = [row[0] for row in chunk]
        # A few distinct states and forecasts, shared: the seeder's time is the SQL's.
        states = [_dumps(state if state is not None else model_state(k)) for k in range(16)]
        forecasts = [_dumps(forecast(horizon, k)) for k in range(16)]
        db.executemany("INSERT INTO models (name, state) VALUES (?, ?)",
                       [(name, states[k % 16]) for k, name in enumerate(names)])
        db.executemany("INSERT INTO outputs (name, kind, value) VALUES (?, 'forecast', ?)",
                       [(name, forecasts[k % 16]) for k, name in enumerate(names)])
        db.executemany("INSERT INTO outputs (name, kind, value) VALUES (?, 'detector', ?)",
                       [(name, detector) for name in names])
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return {"seconds": time.monotonic() - started, "series": n}
