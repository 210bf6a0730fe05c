"""Keeping 100,000 series in memory small: one copy of what many series hold alike.

A series restored from its JSON records held about 65 Python objects, most of them the
dictionary keys and short strings every series repeats (ujson makes a new string for each
key of each object): 4.8 KB a series, 480 MB at 100,000 (bench/scale.py). Here the keys
and the short values are interned and the settings most series share (model parameters,
anomaly settings) are one dict for all the series that have them.

Shared dicts are never changed in place: a change (set_anomaly, a new series) replaces
the series' dict with a new one (the hub's code does so everywhere; see share()).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import ujson

log = logging.getLogger(__name__)

#: Distinct shared dicts kept at most (beyond it a dict is kept as it is, unshared).
MAX_SHARED = 10_000

_shared: dict[str | bytes, dict[str, Any]] = {}


class StoredJob(msgspec.Struct):
    """One entry of a stored runtime's jobs (a kind never run: the defaults)."""

    state: str = "none"
    error: str | None = None
    updated_at: float | None = None
    worker: str | None = None
    attempt: int = 0


class StoredConfig(msgspec.Struct):
    """A series' stored config; the settings as raw JSON, the key they are shared by."""

    model: str
    model_parameters: msgspec.Raw
    realtime: bool
    created_at: float
    anomaly: msgspec.Raw = msgspec.Raw(b"{}")
    rules: list[dict[str, Any]] = []  # protocol/rules.py, as JSON
    horizon: int | str | None = None


class StoredRuntime(msgspec.Struct):
    """A series' stored runtime (see Series.runtime()); what it lacks takes the defaults."""

    points_counted: int = 0
    points_siridb: int | None = None
    counted_at_reconcile: int = 0
    drift: int = 0
    since_fit: int = 0
    since_train: int = 0
    trained_at: float | None = None
    forecast_at: float | None = None
    last_forecast: dict[str, Any] | None = None
    requested: str | None = None
    journal_seq: int = 0
    jobs: dict[str, StoredJob] = {}
    in_siridb: bool | None = None
    appeared_at: float | None = None
    rule_states: dict[str, dict[str, Any]] = {}
    interval: float | None = None


_config = msgspec.json.Decoder(StoredConfig)
_runtime = msgspec.json.Decoder(StoredRuntime)


def decode_records(name: str, config: str, runtime: str) -> tuple[StoredConfig, StoredRuntime]:
    """A stored series' records; a record of unexpected types is read leniently, logged."""
    try:
        return _config.decode(config), _runtime.decode(runtime)
    except msgspec.ValidationError as exc:
        log.error("series %r: stored record not as written (%s); read leniently", name[:64], exc)
        cfg = ujson.loads(config)
        cfg = {**cfg, **{k: msgspec.Raw(ujson.dumps(cfg.get(k) or {}).encode())
                         for k in ("model_parameters", "anomaly")}}
        return (msgspec.convert(cfg, StoredConfig, strict=False),
                msgspec.convert(ujson.loads(runtime), StoredRuntime, strict=False))


def share_raw(raw: msgspec.Raw) -> dict[str, Any]:
    """The one dict series share for this stored JSON object (decoded once)."""
    key = bytes(raw)
    found = _shared.get(key)
    if found is None:
        found = share(msgspec.json.decode(key))
        if len(_shared) < MAX_SHARED:
            _shared[key] = found
    return found


def share(value: dict[str, Any]) -> dict[str, Any]:
    """The one dict equal to value that series share (value itself the first time).

    For settings many series hold alike; callers never change the dict in place.
    """
    try:
        key = ujson.dumps(value, sort_keys=True)
    except (TypeError, OverflowError, ValueError):
        return value
    found = _shared.get(key)
    if found is not None:
        return found
    if len(_shared) < MAX_SHARED:
        _shared[key] = value
    return value


def intern_keys(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A flat dict with its keys (and short string values) interned."""
    if value is None:
        return None
    return {sys.intern(k): _small(v) for k, v in value.items()}


def _small(value: Any) -> Any:
    return sys.intern(value) if type(value) is str and len(value) <= 64 else value


def job_entries(stored: dict[str, StoredJob], kinds: tuple[str, ...]) -> dict[str, dict]:
    """Series.jobs rebuilt from a stored runtime: literal keys, one string per state and
    per worker id (few distinct ones). A kind the record lacks (an older store) starts as
    never run.
    """
    out, same = {}, _strings.setdefault
    for kind in kinds:
        entry = stored.get(kind) or _NEVER
        worker = entry.worker
        out[kind] = {"state": same(entry.state, entry.state), "error": entry.error,
                     "updated_at": entry.updated_at,
                     "worker": None if worker is None else same(worker, worker),
                     "attempt": entry.attempt}
    return out


_NEVER = StoredJob()
#: Job states and worker ids seen in stored runtimes, each kept once.
_strings: dict[str, str] = {}
