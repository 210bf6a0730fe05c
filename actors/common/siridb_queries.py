"""Every SiriDB query Enodo sends, built in one place, and the limits they must stay inside.

SiriDB 2.0.55 answers a QUERY package whose body is over 65,535 bytes with 'Query too
long.', and `head N` / `tail N` only for 1 <= N <= 1,000,000. The builders below are the
only way Enodo writes query text, so `longest_query_body()` can tell, when a series is
added, whether every query Enodo would ever send about it fits.
"""

from __future__ import annotations

import qpack

#: Largest QUERY package body SiriDB accepts (siridb-connector packs [query, precision]).
MAX_QUERY_BODY = 65535
#: head N and tail N accept 1 <= N <= this, whatever select_points_limit is.
MAX_HEAD_TAIL = 1_000_000
#: The widest timestamp any precision can hold (uint64): 20 digits, the worst case for the
#: bounds of a `between` (an ns database's are 19 digits today, an s database's 10).
WIDEST_TS = 2**64 - 1
#: The series Enodo writes for a watched series: enodo.<name>.<kind>.
OUTPUT_KINDS = ("forecast", "lower", "upper", "anomalies", "anomaly_events")


def quote(name: str) -> str:
    """Quote a series name for a query: single quotes, an inner quote doubled."""
    return "'" + name.replace("'", "''") + "'"


def count_query(name: str) -> str:
    """Return the query for a series' point count and last timestamp."""
    return f"select count() from {quote(name)}"


def tail_query(name: str, points: int) -> str:
    """Return the query for a series' last `points` points (1 to MAX_HEAD_TAIL)."""
    return f"select * from {quote(name)} tail {_head_tail(points)}"


def head_query(name: str, points: int) -> str:
    """Return the query for a series' first `points` points (1 to MAX_HEAD_TAIL)."""
    return f"select * from {quote(name)} head {_head_tail(points)}"


def between_query(name: str, start: int, end: int) -> str:
    """Return the query for the points with start <= ts < end."""
    return f"select * from {quote(name)} between {int(start)} and {int(end)}"


def drop_query(name: str) -> str:
    """Return the query dropping one series, whatever the database's drop_threshold.

    Enodo drops only its own output series, one at a time by exact name: the threshold is
    there against dropping many series by mistake, and at its default (1.0) SiriDB refuses
    to drop the last series of a database (outputs in a database of their own).
    """
    return f"drop series {quote(name)} set ignore_threshold true"


def list_limit_query() -> str:
    """Return the query for the most rows one `list series` may return (list_limit)."""
    return "show list_limit"


def list_series_query(pattern: str, limit: int, low: str | None = None,
                      high: str | None = None) -> str:
    """Return the query for the names matching a SiriDB regex, low <= name < high.

    `pattern` is a checked `/.../` or `/.../i` (protocol/patterns.py); limit is at most
    the database's list_limit. Rows come in creation order: a reply of `limit` rows may
    hold back more, which a narrower name range then lists (actors/hub/pattern_listing.py).
    """
    where = [f"name >= {quote(low)}" if low is not None else "",
             f"name < {quote(high)}" if high is not None else ""]
    clause = " and ".join(w for w in where if w)
    return (f"list series name {pattern}" + (f" where {clause}" if clause else "")
            + f" limit {int(limit)}")


def output_series(series: str) -> dict[str, str]:
    """Return every output series Enodo may write for a watched series, by kind."""
    return {kind: f"enodo.{series}.{kind}" for kind in OUTPUT_KINDS}


def _head_tail(points: int) -> int:
    points = int(points)
    if not 1 <= points <= MAX_HEAD_TAIL:
        # A bug, not data: SiriDB would refuse it (and 0 points cannot be asked for).
        raise ValueError(f"head/tail must be 1 to {MAX_HEAD_TAIL}, got {points}")
    return points


def queries_about(name: str) -> list[str]:
    """The longest form of every query Enodo sends about a watched series and its outputs."""
    queries = [
        count_query(name),
        tail_query(name, MAX_HEAD_TAIL),
        head_query(name, MAX_HEAD_TAIL),
        between_query(name, WIDEST_TS, WIDEST_TS),
    ]
    for output in output_series(name).values():
        queries += [drop_query(output), between_query(output, WIDEST_TS, WIDEST_TS)]
    return queries


def query_body_size(query: str) -> int:
    """Bytes of the QUERY package body siridb-connector sends for `query`."""
    return len(qpack.packb([query, None]))


def longest_query_body(name: str) -> int:
    """Bytes of the largest QUERY package Enodo may send about series `name`, any precision."""
    return max(query_body_size(q) for q in queries_about(name))


def name_problem(name: str) -> str | None:
    """Why SiriDB could not answer Enodo's queries about `name`, or None when they fit."""
    size = longest_query_body(name)
    if size > MAX_QUERY_BODY:
        return (f"too long for SiriDB: Enodo's queries about it would be {size} bytes, over "
                f"SiriDB's limit of {MAX_QUERY_BODY} (a name of at most about "
                f"{MAX_QUERY_BODY - (size - len(name.encode()))} UTF-8 bytes fits)")
    return None


#: The longest name of plain ASCII characters (no quote) that fits: 65,439 bytes.
MAX_PLAIN_NAME_BYTES = MAX_QUERY_BODY - (longest_query_body("n" * 1000) - 1000)
