"""Watch by pattern: a SiriDB regex and the template series that match it are watched with.

A pattern is written as SiriDB writes a series regex, `/cpu\\..*/` or `/cpu\\..*/i`
(case-insensitive), and means what it means to SiriDB: the slashes become `^` and `$`
with no group around the body, so the WHOLE name must match (`/cpu/` does not match
`cpu.load`), and `/mem|cpu/` is `^mem|cpu$` (any name starting with `mem`, or ending with
`cpu`). It is matched on the name's UTF-8 bytes, as SiriDB and the development server do,
so the hub's listing, the listener's tee and the hub's own check agree on every name.

The template is the POST /series body without its name, derived from that body's shape
(`AddSerie`) field by field: whatever that body gains, a template gains too.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from protocol.bodies import AddSerie, Empty
from protocol.typed import UNSET, Meta, Shape, UnsetType

#: Longest pattern text: a listing query (the pattern and two name bounds) stays far below
#: SiriDB's 65,535-byte query limit.
MAX_PATTERN_LENGTH = 4096
#: What SiriDB's grammar reads as a regex (`/.../` with `\/` inside, optional `i`).
_SIRIDB_REGEX = re.compile(r"/[^/\\]*(?:\\.[^/\\]*)*/i?", re.DOTALL)
PATTERN_RULE = ("'pattern' must be a SiriDB regex: /body/ or /body/i, a '/' inside the body "
                "escaped as '\\/'")

#: The POST /series body without `name`: the same fields, types and defaults.
SeriesTemplate = msgspec.defstruct(
    "SeriesTemplate",
    [(f.name, f.type, f.default) for f in msgspec.structs.fields(AddSerie) if f.name != "name"],
    bases=(Shape,),
    module=__name__,
)
SeriesTemplate.__doc__ = "How a pattern's series are watched: the POST /series body without name."


def compile_pattern(text: str) -> re.Pattern[bytes]:
    """The regex SiriDB makes of `text` (`^body$`, no group), on UTF-8 bytes; ValueError."""
    if not isinstance(text, str) or not _SIRIDB_REGEX.fullmatch(text):
        raise ValueError(PATTERN_RULE)
    body = text[1:text.rindex("/")]
    if not body:
        raise ValueError("'pattern' must not be empty (// matches no series name)")
    if "\x00" in body:
        raise ValueError("'pattern' must not contain NUL")
    try:
        return re.compile(b"^" + body.encode() + b"$", re.IGNORECASE if text.endswith("i") else 0)
    except re.error as exc:
        raise ValueError(f"'pattern' does not compile: {exc}") from None


def matches(regex: re.Pattern[bytes], name: str) -> bool:
    """Whether SiriDB would select series `name` with this pattern."""
    return regex.search(name.encode()) is not None


PatternText = Annotated[str, Meta(max_length=MAX_PATTERN_LENGTH)]
PatternNumber = Annotated[int, Meta(ge=1, le=2**63 - 1)]


class NewPattern(Shape):
    """POST /patterns: the regex, and how the series it finds are watched (optional)."""

    pattern: PatternText
    template: SeriesTemplate | UnsetType = UNSET  # type: ignore[valid-type]

    def __post_init__(self) -> None:
        compile_pattern(self.pattern)


class PatternId(Shape):
    """Params naming one pattern."""

    id: PatternNumber


class PatternSeriesParams(PatternId):
    """A pattern and which page of its series."""

    offset: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=1000)] | UnsetType = UNSET


class PatternInfo(Shape):
    """A pattern, its template and what it found."""

    id: int
    pattern: str
    template: dict[str, Any]
    created_at: float
    series: int           # series it added that are watched now
    missing: int          # of those, absent from SiriDB's last listing (let go after the grace)
    excluded: int         # removed by hand: the pattern does not add them again
    pending: int          # matches found and waiting to be watched
    listed_at: float | None   # when the last complete listing of SiriDB ended
    listed: int | None        # names that listing found


class PatternList(Shape):
    """Every pattern, oldest first."""

    patterns: list[PatternInfo]


class PatternMember(Shape):
    """A series of a pattern: watched (missing since, when SiriDB lost it) or excluded."""

    name: str
    state: Literal["watched", "missing", "excluded"]
    since: float | None


class PatternSeries(Shape):
    """A page of a pattern's series, sorted by name."""

    id: int
    total: int
    offset: int
    limit: int
    next_offset: int | None
    series: list[PatternMember]


class PatternRemoved(Shape):
    """The pattern deleted (its series stay watched, as if added by hand)."""

    id: int


#: action -> (params, data of its RESPONSE_OK); protocol/actions.py merges them.
PATTERN_ACTIONS: dict[str, tuple[type[Shape], Any]] = {
    "add_pattern": (NewPattern, PatternInfo),
    "list_patterns": (Empty, PatternList),
    "get_pattern": (PatternId, PatternInfo),
    "remove_pattern": (PatternId, PatternRemoved),
    "pattern_series": (PatternSeriesParams, PatternSeries),
}
