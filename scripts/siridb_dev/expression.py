"""Expressions of the query grammar: operands joined by binary operators, with groups."""

from __future__ import annotations

from .parsing import Action, Element, ParseState, Result, Token


class Expression(Element):
    """Operands joined by binary operators, with '(' ... ')' groups.

    The value is a flat list [operand, op, operand, ...]; a group is a nested list.
    """

    def __init__(self, operand: Element, operators: Element,
                 action: Action | None = None) -> None:
        super().__init__(action)
        self.operand = operand
        self.operators = operators
        self.open = Token('(')
        self.close = Token(')')

    def _term(self, state: ParseState, pos: int) -> Result:
        result = self.operand.parse(state, pos)
        if result is not None:
            return result
        opened = self.open.parse(state, pos)
        if opened is None:
            return None
        inner = self.parse(state, opened[1])
        if inner is None:
            return None
        closed = self.close.parse(state, inner[1])
        if closed is None:
            return None
        return [inner[0]], closed[1]

    def _parse(self, state: ParseState, pos: int) -> Result:
        first = self._term(state, pos)
        if first is None:
            return None
        values = [first[0]]
        pos = first[1]
        while True:
            op = self.operators.parse(state, pos)
            if op is None:
                break
            term = self._term(state, op[1])
            if term is None:
                break
            values.extend((op[0], term[0]))
            pos = term[1]
        return values, pos
