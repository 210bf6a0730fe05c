"""A stand-in for the hub's SiriDB link that answers the pattern listing from a list of names.

It answers `show list_limit` and `list series name /re/ [where name >= 'a' [and name < 'b']]
limit N` as SIRIDB.md says SiriDB does (full match, creation order, at most N rows), right
away into the queue given; for unit tests of the watcher and for bench/patterns.py. The
integration tests use the development server instead.
"""

from __future__ import annotations

import queue
import re
from typing import Any

from protocol.patterns import compile_pattern

_LIST = re.compile(r"list series name (/.*/i?)(?: where (.*))? limit (\d+)", re.DOTALL)
_BOUND = re.compile(r"name (>=|<) '((?:[^']|'')*)'")


class FakeListingLink:
    """`configured`, `submit(tag, query, results, kind)` and the names SiriDB has."""

    configured = True

    def __init__(self, names: list[str], list_limit: int = 10_000) -> None:
        self.names = names
        self.list_limit = list_limit
        self.queries: list[str] = []
        self.fail_next: str | None = None

    def submit(self, tag: str, query: str, results: queue.Queue, kind: str = "count") -> None:
        """Answer at once into results."""
        self.queries.append(query)
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            results.put((tag, None, error))
            return
        results.put((tag, self.answer(query), None))

    def answer(self, query: str) -> Any:
        """The reply SiriDB would give."""
        if query == "show list_limit":
            return {"data": [{"name": "list_limit", "value": self.list_limit}]}
        match = _LIST.fullmatch(query)
        if match is None:
            raise ValueError(f"not a listing query: {query!r}")
        regex = compile_pattern(match[1])
        limit = int(match[3])
        if not 0 < limit <= self.list_limit:
            raise ValueError("limit beyond list_limit")
        bounds = [(op, value.replace("''", "'")) for op, value in _BOUND.findall(match[2] or "")]
        rows = []
        for name in self.names:
            raw = name.encode()
            if regex.search(raw) and all(
                    raw >= v.encode() if op == ">=" else raw < v.encode() for op, v in bounds):
                rows.append([name])
                if len(rows) == limit:
                    break
        return {"columns": ["name"], "series": rows}
