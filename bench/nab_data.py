"""NAB-format folders: data/<group>/<file>.csv and labels/combined_windows.json; results CSVs."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")


@dataclass
class DataFile:
    """One series: its path under data/, raw timestamp strings, epoch seconds, values, windows."""

    name: str
    stamps: list[str]
    seconds: np.ndarray
    values: np.ndarray
    windows: list[tuple[int, int]]

    @property
    def group(self) -> str:
        """The folder under data/ (NAB's category)."""
        return self.name.split("/", 1)[0] if "/" in self.name else "."


def parse_time(text: str) -> int:
    """Epoch seconds (UTC) of a NAB timestamp, with or without fractional seconds."""
    text = text.strip()
    for fmt in TIME_FORMATS:
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(moment.timestamp())
    raise ValueError(f"unreadable timestamp {text!r}")


def window_rows(seconds: np.ndarray, start: str, end: str) -> tuple[int, int] | None:
    """The first and last row inside [start, end], or None when no row is."""
    first = int(np.searchsorted(seconds, parse_time(start), side="left"))
    last = int(np.searchsorted(seconds, parse_time(end), side="right")) - 1
    return (first, last) if first <= last else None


def read_series(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(timestamp strings, epoch seconds, values) of one data CSV, sorted by time."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != ["timestamp", "value"]:
            raise ValueError(f"{path}: expected a header timestamp,value")
        rows = [row for row in reader if row]
    stamps = [row[0] for row in rows]
    seconds = np.array([parse_time(s) for s in stamps], dtype=np.int64)
    values = np.array([float(row[1]) for row in rows], dtype=np.float64)
    if len(seconds) > 1 and np.any(np.diff(seconds) < 0):
        order = np.argsort(seconds, kind="stable")
        stamps = [stamps[i] for i in order]
        seconds, values = seconds[order], values[order]
    return stamps, seconds, values


def load_corpus(data_dir: Path, labels: Path) -> list[DataFile]:
    """Every CSV under data_dir with its windows (a file the labels do not list has none)."""
    with labels.open() as handle:
        windows = json.load(handle)
    if not isinstance(windows, dict):
        raise ValueError(f"{labels}: expected an object of file name to windows")
    files = []
    for path in sorted(data_dir.rglob("*.csv")):
        name = path.relative_to(data_dir).as_posix()
        stamps, seconds, values = read_series(path)
        rows = [window_rows(seconds, a, b) for a, b in windows.get(name, [])]
        files.append(DataFile(name, stamps, seconds, values, [r for r in rows if r is not None]))
    if not files:
        raise ValueError(f"no CSV files under {data_dir}")
    return files


def write_results(
    results_dir: Path, data: DataFile, scores: np.ndarray, alerts: list[int]
) -> Path:
    """Write <results_dir>/<same relative path>: timestamp,value,anomaly_score,alert."""
    path = results_dir / data.name
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = np.zeros(len(data.values), dtype=int)
    flags[alerts] = 1
    # NAB wants scores in [0, 1] and counts every row at or above its threshold as a detection;
    # our detections are the alerts (an event opening or escalating), not every anomalous row.
    # s / (1 + s), halved on rows without an alert, keeps the order within each kind and makes
    # the alerts exactly the rows above 0.5.
    squashed = scores / (1.0 + scores)
    squashed = np.where(flags == 1, squashed, squashed / 2.0)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score", "alert"])
        for stamp, value, score, flag in zip(data.stamps, data.values, squashed, flags,
                                             strict=True):
            writer.writerow([stamp, repr(float(value)), f"{score:.6f}", int(flag)])
    return path


T = TypeVar("T")


def map_files(
    fn: Callable[[Any], T], work: Sequence[Any], files: Sequence[DataFile], processes: int,
) -> list[T]:
    """fn over work (one item per file), in `processes` processes, largest files first so
    that the long ones do not start last; results in the order of work."""
    if processes <= 1:
        return [fn(w) for w in work]
    order = sorted(range(len(work)), key=lambda k: -len(files[k].values))
    with ProcessPoolExecutor(max_workers=processes) as pool:
        done = dict(zip(order, pool.map(fn, [work[k] for k in order]), strict=True))
    return [done[k] for k in range(len(work))]
