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
            match = re.fullmatch(r"drop series " + NAME_RE, text)
            if match is None:
                raise SiriDBQueryFailed(f"cannot parse {text!r}")
            if self.series.pop(match[1].replace("''", "'"), None) is None:
                raise SiriDBQueryFailed("series not found")
            return {"success_msg": "dropped"}
        what, name, rest = match[1], match[2].replace("''", "'"), match[3]
        if name not in self.series:
            return {}
        points = self.series[name]
        if what == "count()":
            return {name: [[points[-1][0], len(points)]]}
        if m := re.fullmatch(r" between (\d+) and (\d+)", rest):
            points = [p for p in points if int(m[1]) <= p[0] < int(m[2])]
        elif m := re.fullmatch(r" tail (\d+)", rest):
            points = points[-int(m[1]):]
        elif m := re.fullmatch(r" head (\d+)", rest):
            points = points[: int(m[1])]
        elif rest:
            raise SiriDBQueryFailed(f"cannot parse {rest!r}")
        return {name: [list(p) for p in points]}
