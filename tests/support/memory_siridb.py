"""An in-memory SiriDB for worker unit tests, answering queries as the server shapes them."""

from __future__ import annotations

import re

from actors.worker.config import SiriDBSettings
from actors.worker.siridb_io import SiriDB, SiriDBQueryFailed

SETTINGS = SiriDBSettings("127.0.0.1", 9000, "iris", "siri", "dbtest")
NAME_RE = r"'((?:[^']|'')*)'"


class MemorySiriDB(SiriDB):
    """SiriDB with its queries answered from a dict of points, as the server shapes them."""

    def __init__(self, series: dict[str, list[list]], precision: str = "ms") -> None:
        super().__init__(SETTINGS)
        self.series = series
        self.time_precision = precision
        self.queries: list[str] = []

    async def precision(self) -> str:
        return self.time_precision

    async def insert(self, data: dict[str, list[list]]) -> None:
        for name, points in data.items():
            self.series.setdefault(name, []).extend(points)
            self.series[name].sort(key=lambda p: p[0])

    async def query(self, text: str):
        self.queries.append(text)
        match = re.fullmatch(r"select (\*|count\(\)) from " + NAME_RE + r"(.*)", text)
        if match is None:
            match = re.fullmatch(r"drop series " + NAME_RE + r"( set ignore_threshold true)?",
                                 text)
            if match is None:
                raise SiriDBQueryFailed(f"cannot parse {text!r}")
            name = match[1].replace("''", "'")
            # As SiriDB: the threshold (default 1.0) is compared with >=; absent is no error.
            if name in self.series and not match[2] and 1 / len(self.series) >= 1.0:
                raise SiriDBQueryFailed("This query would drop 100.00% of the series")
            dropped = self.series.pop(name, None) is not None
            return {"success_msg": f"Successfully dropped {int(dropped)} series."}
        what, name, rest = match[1], match[2].replace("''", "'"), match[3]
        if name not in self.series:
            return {}
        points = self.series[name]
        if what == "count()":
            return {name: [[points[-1][0], len(points)]]}
        if m := re.fullmatch(r" between (\d+) and (\d+)", rest):
            points = [p for p in points if int(m[1]) <= p[0] < int(m[2])]
        elif m := re.fullmatch(r" (tail|head) (\d+)", rest):
            n = int(m[2])
            if not 1 <= n <= 1_000_000:
                raise SiriDBQueryFailed(f"{m[1].capitalize()} must be a value between 1 and "
                                        f"1000000, got {n}")
            points = points[-n:] if m[1] == "tail" else points[:n]
        elif rest:
            raise SiriDBQueryFailed(f"cannot parse {rest!r}")
        return {name: [list(p) for p in points]}
