"""enodo-client's pattern commands: watch every series matching a SiriDB regex, and follow it.

`pattern-add --wait` is the bulk add: it prints the pattern's progress (series watched,
matches waiting, SiriDB's listing) until its first listing is done and nothing waits.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from scripts import client_format as fmt
from scripts.client_template import template_arguments, template_params

#: Seconds between two looks at a pattern's progress.
PROGRESS_EVERY = 0.5


def add_pattern_commands(sub: argparse._SubParsersAction) -> None:
    """Add the pattern commands' parsers."""
    add = sub.add_parser("pattern-add", help="watch every series matching a SiriDB regex")
    add.add_argument("pattern", help="a SiriDB regex, e.g. '/cpu\\..*/' or '/cpu.*/i'")
    template_arguments(add)
    add.add_argument("--wait", action="store_true",
                     help="show progress until every series SiriDB has is watched")
    sub.add_parser("patterns", help="list the patterns")
    sub.add_parser("pattern-show", help="one pattern").add_argument("id", type=int)
    sub.add_parser("pattern-remove", help="delete a pattern (its series stay watched)"
                   ).add_argument("id", type=int)
    series = sub.add_parser("pattern-series", help="a page of a pattern's series")
    series.add_argument("id", type=int)
    series.add_argument("--offset", type=int, default=None, help="first series (default 0)")
    series.add_argument("--limit", type=int, default=None, help="series (1..1000)")


def _new_pattern(args: argparse.Namespace) -> dict[str, Any]:
    template = template_params(args)
    return {"pattern": args.pattern, **({"template": template} if template else {})}


def _page(args: argparse.Namespace) -> dict[str, Any]:
    params = {"id": args.id}
    for key in ("offset", "limit"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    return params


def progress_line(info: dict[str, Any]) -> str:
    """One line of a pattern's progress."""
    listing = ("SiriDB listed: not yet" if info.get("listed_at") is None
               else f"SiriDB listed: {info.get('listed')}")
    return (f"pattern {info.get('id')} {info.get('pattern')}: {info.get('series')} watched, "
            f"{info.get('pending')} waiting, {info.get('excluded')} excluded; {listing}")


def patterns_table(data: dict[str, Any]) -> str:
    """The patterns, one line each."""
    rows = data.get("patterns") or []
    return "\n".join(progress_line(p) for p in rows) if rows else "(no patterns)"


def series_table(data: dict[str, Any]) -> str:
    """A page of a pattern's series: state and name."""
    lines = [f"{row['state']:<9} {fmt.show_name(row['name'])}" for row in data.get("series", [])]
    more = data.get("next_offset")
    lines.append(f"({data.get('total')} in all" + (f"; next page: --offset {more})"
                                                   if more is not None else ")"))
    return "\n".join(lines)


def follow_pattern(request: Callable[[str, dict[str, Any]], Any], pattern_id: int,
                   say: Callable[[str], None], sleep: Callable[[float], None] = time.sleep,
                   ) -> dict[str, Any]:
    """Print the pattern's progress whenever it changes until it is listed and nothing waits."""
    last = None
    while True:
        info = request("get_pattern", {"id": pattern_id})
        line = progress_line(info)
        if line != last:
            say(line)
            last = line
        if info.get("listed_at") is not None and not info.get("pending"):
            return info
        sleep(PROGRESS_EVERY)


PATTERN_COMMANDS: dict[str, tuple[str, Any, Any]] = {
    "pattern-add": ("add_pattern", _new_pattern, progress_line),
    "patterns": ("list_patterns", lambda a: None, patterns_table),
    "pattern-show": ("get_pattern", lambda a: {"id": a.id}, fmt.key_values),
    "pattern-remove": ("remove_pattern", lambda a: {"id": a.id},
                       lambda d: f"pattern {d.get('id')} removed"),
    "pattern-series": ("pattern_series", _page, series_table),
}
