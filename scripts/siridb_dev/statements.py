"""The parsed form of the queries the development server understands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A time or integer expression: [operand, op, operand, ...]; an operand is
# ('int', n), ('dur', n, unit), ('now',), ('date', text) or a nested expression list.
Expr = list[Any]


@dataclass
class Function:
    """One aggregate or filter step, e.g. mean(1h); name '*' selects the points."""

    name: str
    interval: Expr | None = None
    args: list[Any] = field(default_factory=list)


@dataclass
class Aggregate:
    """A chain of functions joined by '=>' with an optional name prefix/suffix."""

    functions: list[Function]
    prefix: bytes = b''
    suffix: bytes = b''


@dataclass
class MatchItem:
    """One series selector: all, a name, a /regex/, a `group` or a nested match."""

    kind: str
    value: Any = None


@dataclass
class SeriesMatch:
    """Selectors combined left to right with set operators."""

    items: list[MatchItem]
    operators: list[str]


@dataclass
class Condition:
    """A where clause: ('cmp', prop, op, value) leaves joined by and/or."""

    kind: str
    prop: str = ''
    op: str = ''
    value: Any = None
    left: Condition | None = None
    right: Condition | None = None


@dataclass
class TimeRange:
    """after / before / between / head / tail of a select."""

    kind: str
    start: Expr | None = None
    end: Expr | None = None


@dataclass
class Select:
    """select <aggregates> from <series> [where] [range] [merge as]."""

    aggregates: list[Aggregate]
    match: SeriesMatch
    where: Condition | None = None
    range: TimeRange | None = None
    merge: Any = None


@dataclass
class ListSeries:
    """list series [columns] [series] [where] [limit n]."""

    columns: list[str]
    match: SeriesMatch | None
    where: Condition | None
    limit: Expr | None = None


@dataclass
class CountSeries:
    """count series [series] [where], or count series length."""

    match: SeriesMatch | None
    where: Condition | None
    length: bool = False


@dataclass
class DropSeries:
    """drop series [series] [where] [set ignore_threshold true]."""

    match: SeriesMatch | None
    where: Condition | None
    ignore_threshold: bool = False


@dataclass
class Show:
    """show [name, ...]; no names shows everything."""

    names: list[str]


@dataclass
class AlterDatabase:
    """alter database set <setting> <value>."""

    setting: str
    value: Any


@dataclass
class Calc:
    """A bare time expression, or nothing at all (the empty query)."""

    expr: Expr | None


@dataclass
class Unsupported:
    """A statement SiriDB knows but the development server does not implement."""

    what: str


@dataclass
class Statement:
    """A whole query: the statement, and whether timeit was asked for."""

    body: Any
    timeit: bool = False
