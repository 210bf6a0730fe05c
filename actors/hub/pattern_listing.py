"""One complete listing of the series SiriDB has that match a pattern, page by page.

SiriDB's `list series` has no offset: it answers at most `limit` rows (at most the
database's `list_limit`) in creation order. A reply of fewer rows than the limit is the
whole selection; a full reply may hold back more. Then the name range it covered is cut
in two at a name near the middle of the reply (`where name >= 'a' and name < 'b'`) and
each half is listed again, until every range answers short. Each half holds at least
half of the reply's names fewer than its parent, so it ends; 100,000 names with the
default list_limit of 10,000 take 31 (random order) to 39 (names created in order) queries.
"""

from __future__ import annotations

from actors.common.siridb_queries import MAX_QUERY_BODY, list_series_query, query_body_size

Range = tuple[str | None, str | None]  # low (included) and high (excluded); None: open


def split_key(below: str, at: str) -> str:
    """The shortest prefix of `at` that sorts after `below` (below < at): a short bound."""
    for size in range(1, len(at) + 1):
        if at[:size] > below:
            return at[:size]
    return at


class Sweep:
    """The ranges left to list for one pattern, and every name found so far."""

    def __init__(self, pattern_id: int, pattern: str, limit: int) -> None:
        self.pattern_id = pattern_id
        self.pattern = pattern
        self.limit = max(1, limit)
        self.todo: list[Range] = [(None, None)]
        self.current: Range | None = None
        self.found: set[str] = set()
        self.queries = 0

    @property
    def done(self) -> bool:
        """Whether every range answered short: `found` is all SiriDB has."""
        return not self.todo and self.current is None

    def next_query(self) -> str | None:
        """The query for the next range (None when done or one is out)."""
        while self.current is None and self.todo:
            low, high = self.todo.pop()
            query = list_series_query(self.pattern, self.limit, low, high)
            if query_body_size(query) > MAX_QUERY_BODY:
                raise ValueError("a name bound makes the listing query too long for SiriDB")
            self.current = (low, high)
            self.queries += 1
            return query
        return None

    def on_reply(self, data: object) -> list[str]:
        """Take the reply to the current range's query; return the names it listed."""
        if self.current is None:
            raise ValueError("no listing query is out")
        rows = data.get("series") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise ValueError(f"unexpected list series reply: {str(data)[:200]}")
        names = [row[0] for row in rows
                 if isinstance(row, list) and row and isinstance(row[0], str)]
        low, high = self.current
        self.current = None
        self.found.update(names)
        if len(rows) >= self.limit:
            ordered = sorted(names)
            middle = len(ordered) // 2
            if middle == 0:  # a limit of 1: list around the one name found
                self.todo += [(ordered[0] + "\x01", high), (low, ordered[0])]
            else:
                key = split_key(ordered[middle - 1], ordered[middle])
                self.todo += [(key, high), (low, key)]
        return names
