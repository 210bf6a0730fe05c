"""Watched series: configuration, runtime counters and job states, kept small per series."""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from actors.hub.compact import decode_records, intern_keys, job_entries, share_raw
from actors.hub.series_pages import NameIndex
from actors.hub.store import Store
from protocol.jobs import JobKind, SeriesJobState

log = logging.getLogger(__name__)

JOB_KINDS = tuple(JobKind)
#: Most points a series may be counted with (2**53: exact in any JSON reader; sums of a
#: few such counts stay far below SQLite's 64-bit integers).
MAX_POINTS = 2**53
#: A report with a count above this is checked against MAX_POINTS before anything is added;
#: smaller counts are added at once and a total that still gets past it (2**22 reports of
#: that size at the least) stops at MAX_POINTS (SeriesRegistry.count_many).
CHECKED_COUNT = 2**31
JOB_KIND_VALUES = tuple(kind.value for kind in JobKind)
#: Fewest series runtimes one fold_some() writes (about 0.4 ms of the hub's loop for 25).
FOLD_SLICE = 25
#: fold_some() writes at least 1/FOLD_SPREAD of the series waiting: called ten times a
#: second (server.py FOLD_INTERVAL), a series counted without pause has its runtime written
#: about every FOLD_SPREAD / 10 seconds. (Once a second with a thirtieth: 100,000 series
#: counted made one turn a second write 3,300 runtimes, 30-50 ms of the loop.)
FOLD_SPREAD = 300


def _new_jobs() -> dict[str, dict[str, Any]]:
    return {
        kind.value: {"state": SeriesJobState.NONE.value, "error": None, "updated_at": None,
                     "worker": None, "attempt": 0}
        for kind in JOB_KINDS
    }


@dataclass(slots=True)
class Series:
    """One watched series; `runtime` is what changes as points and jobs come and go."""

    name: str
    model: str
    model_parameters: dict[str, Any]
    realtime: bool
    created_at: float
    points_counted: int = 0        # new points the listeners reported since the series was added
    points_siridb: int | None = None  # last count read from SiriDB (the truth)
    counted_at_reconcile: int = 0  # points_counted when points_siridb was read
    drift: int = 0                 # points SiriDB has that the tee never reported
    since_fit: int = 0             # new points since the last fit (or train)
    since_train: int = 0           # new points since the last train
    trained_at: float | None = None
    forecast_at: float | None = None
    last_forecast: dict[str, Any] | None = None
    requested: str | None = None   # a job kind asked for over the API
    journal_seq: int = 0           # last count_journal row this runtime includes
    jobs: dict[str, dict[str, Any]] = field(default_factory=_new_jobs)
    anomaly: dict[str, Any] = field(default_factory=dict)  # anomaly settings (detector.py)
    in_siridb: bool | None = None  # did SiriDB have the series at the last count (None: not yet)
    appeared_at: float | None = None  # when a series SiriDB lacked was first found there
    rules: list[dict[str, Any]] = field(default_factory=list)  # protocol.rules, as JSON
    horizon: int | str | None = None  # forecast steps, or a span (None: the setting)
    rule_states: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> RuleState
    interval: float | None = None  # seconds between points, from the last analysis

    def config(self) -> dict[str, Any]:
        """Return what the operator chose for this series (rules and horizon when set)."""
        out = {
            "model": self.model,
            "model_parameters": self.model_parameters,
            "realtime": self.realtime,
            "created_at": self.created_at,
            "anomaly": self.anomaly,
        }
        if self.rules:
            out["rules"] = self.rules
        if self.horizon is not None:
            out["horizon"] = self.horizon
        return out

    def runtime(self) -> dict[str, Any]:
        """Return what the hub learnt about this series."""
        out = {
            "points_counted": self.points_counted,
            "points_siridb": self.points_siridb,
            "counted_at_reconcile": self.counted_at_reconcile,
            "drift": self.drift,
            "since_fit": self.since_fit,
            "since_train": self.since_train,
            "trained_at": self.trained_at,
            "forecast_at": self.forecast_at,
            "last_forecast": self.last_forecast,
            "requested": self.requested,
            "journal_seq": self.journal_seq,
            "jobs": self.jobs,
            "in_siridb": self.in_siridb,
            "appeared_at": self.appeared_at,
        }
        if self.rule_states:
            out["rule_states"] = self.rule_states
        if self.interval is not None:
            out["interval"] = self.interval
        return out

    @classmethod
    def restore(cls, name: str, config: str, runtime: str) -> Series:
        """Rebuild a series from its stored records (compactly: actors/hub/compact.py)."""
        cfg, run = decode_records(name, config, runtime)
        series = cls(
            name, sys.intern(cfg.model), share_raw(cfg.model_parameters), cfg.realtime,
            cfg.created_at, run.points_counted, run.points_siridb, run.counted_at_reconcile,
            run.drift, run.since_fit, run.since_train, run.trained_at, run.forecast_at,
            intern_keys(run.last_forecast), run.requested, run.journal_seq,
            job_entries(run.jobs, JOB_KIND_VALUES), share_raw(cfg.anomaly), run.in_siridb,
            run.appeared_at, cfg.rules, cfg.horizon, run.rule_states, run.interval,
        )
        return series

    @property
    def points(self) -> int:
        """Best estimate of the points in SiriDB: the last count plus what came since."""
        if self.points_siridb is None:
            return self.points_counted
        return self.points_siridb + self.points_counted - self.counted_at_reconcile

    def summary(self) -> dict[str, Any]:
        """Return the short form shown in lists."""
        return {
            "name": self.name,
            "model": self.model,
            "realtime": self.realtime,
            "points": self.points,
            "jobs": {kind: job["state"] for kind, job in self.jobs.items()},
        }

    def detail(self) -> dict[str, Any]:
        """Return everything worth showing about the series."""
        out = self.summary()
        out.update(
            model_parameters=self.model_parameters,
            anomaly=self.anomaly,
            created_at=self.created_at,
            points_counted=self.points_counted,
            points_siridb=self.points_siridb,
            drift=self.drift,
            new_points_since_fit=self.since_fit,
            new_points_since_train=self.since_train,
            trained_at=self.trained_at,
            forecast_at=self.forecast_at,
            last_forecast=self.last_forecast,
            jobs=self.jobs,
            in_siridb=self.in_siridb,
            appeared_at=self.appeared_at,
            siridb_note=self.siridb_note(),
        )
        return out

    def siridb_note(self) -> str | None:
        """What to tell a user about the series in SiriDB (None: nothing to say)."""
        if self.in_siridb is None:
            return "not looked up in SiriDB yet (within seconds of adding it)"
        if not self.in_siridb:
            return ("SiriDB has no such series yet: Enodo waits for it (looked up again every "
                    "few seconds; the event log says when it appears)")
        return None


class SeriesRegistry:
    """Watched series in memory, written through to the store.

    Point counts, the hot path, are journalled as one row per hub turn rather than as a
    runtime write per series; `fold()` writes the runtimes of the series counted longest
    ago, a slice at a time, and drops the journal rows every runtime includes. At start the
    rows a runtime does not include (id > its journal_seq) are applied again, so no
    acknowledged count is lost.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._series: dict[str, Series] = {}
        self._dirty: set[str] = set()
        self._counted: dict[str, int] = {}
        # counted series whose runtime lacks some journal rows -> the first such row's id;
        # in insertion order, so the first entry holds the oldest row still needed.
        self._count_dirty: dict[str, int] = {}
        self._journal_seq = 0
        self._trimmed = 0
        for name, config, runtime in store.load_series():
            self._series[name] = Series.restore(name, config, runtime)
        #: The names in order, for pages of the list (actors/hub/series_pages.py).
        self.index = NameIndex(self._series)
        for row_id, counts in store.load_count_journal():
            self._journal_seq = row_id
            for name, count in counts.items():
                series = self._series.get(name)
                if series is not None and row_id > series.journal_seq:
                    series.points_counted += count
                    series.since_fit += count
                    series.since_train += count
                    self._count_dirty.setdefault(name, row_id)

    def __len__(self) -> int:
        return len(self._series)

    def __contains__(self, name: str) -> bool:
        return name in self._series

    def __iter__(self) -> Iterator[Series]:
        return iter(self._series.values())

    def get(self, name: str) -> Series | None:
        """Return the series called name, or None."""
        return self._series.get(name)

    def add(self, series: Series) -> None:
        """Store a new series."""
        series.journal_seq = self._journal_seq
        self._series[series.name] = series
        self.index.add(series.name)
        self.store.put_series(series.name, series.config(), series.runtime())

    def remove(self, name: str) -> Series | None:
        """Delete a series and what the store holds for it."""
        series = self._series.pop(name, None)
        if series is not None:
            self.index.remove(name)
            self._dirty.discard(name)
            self._count_dirty.pop(name, None)
            self._counted.pop(name, None)
            self.store.delete_series(name)
        return series

    def touch(self, name: str) -> None:
        """Mark a series' runtime as changed; written at the next flush."""
        self._dirty.add(name)

    def count_many(
        self, counts: dict[str, int], on_points: Callable[[Series], None], limit: int
    ) -> int:
        """Add new points to the series named in counts; return how many series matched.

        Journalled at the next flush; on_points is called for each matched series. A total
        past limit stops at limit. Unknown names and zero counts are skipped.
        """
        get, counted = self._series.get, self._counted
        matched = 0
        for name, points in counts.items():
            series = get(name)
            if series is None or not points:
                continue
            total = series.points_counted + points
            if total > limit:
                log.warning("series %r: count held at %d points", name[:64], limit)
                points, total = limit - series.points_counted, limit
            series.points_counted = total
            series.since_fit += points
            series.since_train += points
            counted[name] = counted.get(name, 0) + points
            on_points(series)
            matched += 1
        return matched

    def flush(self) -> None:
        """Journal this turn's counts and write every changed runtime (open transaction)."""
        self._journal()
        if self._dirty:
            rows = []
            for name in self._dirty:
                series = self._series.get(name)
                if series is not None:
                    series.journal_seq = self._journal_seq
                    rows.append((name, series.runtime()))
            self.store.put_runtimes(rows)
            for name in self._dirty:
                self._count_dirty.pop(name, None)
            self._dirty.clear()

    def _journal(self) -> None:
        if self._counted:
            seq = self._journal_seq = self.store.append_counts(self._counted)
            pending = self._count_dirty
            # set.difference(dict) walks the left side: O(this turn), not O(series waiting).
            pending.update(dict.fromkeys(set(self._counted).difference(pending), seq))
            self._counted = {}

    def fold(self, limit: int | None = None) -> None:
        """Write the runtimes of the series counted longest ago (up to limit; all when None)
        and drop the journal rows that every runtime now includes."""
        self._journal()  # this turn's counts too: they may be among what is dropped
        pending = self._count_dirty
        take = len(pending) if limit is None else min(limit, len(pending))
        self._dirty.update(itertools.islice(pending, take))
        self.flush()
        oldest = next(iter(pending.values()), None)
        upto = self._journal_seq if oldest is None else oldest - 1
        if upto > self._trimmed:
            self.store.trim_count_journal(upto)
            self._trimmed = upto

    def fold_some(self) -> None:
        """Fold FOLD_SLICE series, or 1/FOLD_SPREAD of those waiting when that is more."""
        self.fold(max(FOLD_SLICE, len(self._count_dirty) // FOLD_SPREAD))
