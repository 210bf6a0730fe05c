"""Series selection: names, /regex/, set operators and where clauses."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from . import statements as st
from .storage import Database, Series
from .timeexpr import evaluate, evaluate_time


class MatchError(Exception):
    """A series selection that SiriDB rejects; the message is the query error."""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    '==': operator.eq, '!=': operator.ne, '<': operator.lt, '>': operator.gt,
    '<=': operator.le, '>=': operator.ge,
    '~': lambda a, b: b in a,
    '!~': lambda a, b: b not in a,
}


def compile_series_regex(text: str) -> re.Pattern[bytes]:
    """Compile /re/ or /re/i the way SiriDB does: slashes become ^ and $.

    SiriDB adds no group, so /mem|cpu/ becomes ^mem|cpu$ (matches 'mem.free').
    """
    flags = re.IGNORECASE if text.endswith('i') else 0
    body = text[1:text.rindex('/')]
    try:
        return re.compile(b'^' + body.encode('latin-1') + b'$', flags)
    except re.error as exc:
        raise MatchError(f'Cannot compile regular expression {text!r}: {exc}') from None


def _names_for(db: Database, item: st.MatchItem) -> set[bytes]:
    if item.kind == 'all':
        return set(db.series)
    if item.kind == 'name':
        return {item.value} if item.value in db.series else set()
    if item.kind == 'regex':
        pattern = compile_series_regex(item.value)
        return {name for name in db.series if pattern.search(name)}
    if item.kind == 'match':
        return _names(db, item.value)
    # The server has no groups (create group is not implemented): SiriDB's answer for a
    # group that does not exist.
    raise MatchError(f"Cannot find group '{item.value.decode('latin-1')}'")


def _names(db: Database, match: st.SeriesMatch) -> set[bytes]:
    names = _names_for(db, match.items[0])
    for op, item in zip(match.operators, match.items[1:], strict=True):
        other = _names_for(db, item)
        if op == 'union':
            names |= other
        elif op == 'difference':
            names -= other
        elif op == 'intersection':
            names &= other
        else:
            names ^= other
    return names


class Where:
    """A where clause bound to a database's precision and the query time."""

    def __init__(self, condition: st.Condition, precision: str, now: float) -> None:
        self.condition = condition
        self.precision = precision
        self.now = now

    def _prop(self, series: Series, prop: str) -> Any:
        if prop == 'name':
            return series.name
        if prop == 'length':
            return len(series)
        if prop == 'pool':
            return 0
        if prop == 'type':
            return series.tp
        return series.ts[0] if prop == 'start' else series.ts[-1]

    def _value(self, cond: st.Condition) -> Any:
        if cond.prop in ('length', 'pool'):
            return evaluate(cond.value, self.precision, self.now)
        if cond.prop in ('start', 'end'):
            return evaluate_time(cond.value, self.precision, self.now)
        return cond.value

    def test(self, series: Series, cond: st.Condition | None = None) -> bool:
        """Whether the series satisfies the clause."""
        cond = cond or self.condition
        if cond.kind == 'and':
            return self.test(series, cond.left) and self.test(series, cond.right)
        if cond.kind == 'or':
            return self.test(series, cond.left) or self.test(series, cond.right)
        if not series.ts and cond.prop in ('start', 'end'):
            return False
        return _COMPARE[cond.op](self._prop(series, cond.prop), self._value(cond))


def select_series(db: Database, match: st.SeriesMatch | None, where: st.Condition | None,
                  now: float) -> list[Series]:
    """The matching series in creation order (all series when `match` is None)."""
    names = None if match is None else _names(db, match)
    clause = None if where is None else Where(where, db.time_precision, now)
    if names is not None and len(names) <= 1:
        # One series (the common `select ... from 'x'`): no walk of every series for it.
        found = [db.series[name] for name in names if name in db.series]
        return [s for s in found if clause is None or clause.test(s)]
    return [s for name, s in db.series.items()
            if (names is None or name in names) and (clause is None or clause.test(s))]
