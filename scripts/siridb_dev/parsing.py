"""A small left-to-right parser in the style of libcleri, SiriDB's parser library.

What matters for compatibility is the syntax error: SiriDB reports the furthest
position any element failed at, and lists every element tried at that position in the
order they were tried ("Query error at position 9. Expecting =>, prefix, suffix, , or
from").  Elements here record their failures the same way; regular expressions carry
the label SiriDB prints for them, or '' when SiriDB prints nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Result = tuple[Any, int] | None
Action = Callable[[Any], Any]

_KEYWORD = re.compile(r'[a-z_]+')
_C_SPACE = ' \t\n\v\f\r'
END_OF_STATEMENT = 'end_of_statement'


class ParseState:
    """One parse: the text and the elements expected at the furthest failure."""

    def __init__(self, text: str, strict: bool = False) -> None:
        self.text = text
        # strict: the parts of SiriDB's grammar the server does not implement fail to parse.
        self.strict = strict
        self.fail_pos = 0
        self.expecting: list[str] = []

    def skip_space(self, pos: int) -> int:
        """Skip white space as C isspace() does."""
        text = self.text
        while pos < len(text) and text[pos] in _C_SPACE:
            pos += 1
        return pos

    def expect(self, pos: int, label: str) -> None:
        """Record that `label` was tried and failed at `pos`."""
        if pos > self.fail_pos:
            self.fail_pos = pos
            self.expecting = []
        if pos == self.fail_pos and label not in self.expecting:
            self.expecting.append(label)

    def expected_labels(self) -> list[str]:
        """Labels to print, without the untranslated (empty) ones."""
        return [label for label in self.expecting if label]


class Element:
    """Base of all grammar elements; `action` turns a parsed value into a result."""

    def __init__(self, action: Action | None = None) -> None:
        self.action = action

    def parse(self, state: ParseState, pos: int) -> Result:
        """Skip white space, then match at `pos`; None when it does not match."""
        pos = state.skip_space(pos)
        result = self._parse(state, pos)
        if result is not None and self.action is not None:
            return self.action(result[0]), result[1]
        return result

    def _parse(self, state: ParseState, pos: int) -> Result:
        raise NotImplementedError


class Keyword(Element):
    """A lower-case word that must not continue with more word characters."""

    def __init__(self, word: str, action: Action | None = None) -> None:
        super().__init__(action)
        self.word = word

    def _parse(self, state: ParseState, pos: int) -> Result:
        match = _KEYWORD.match(state.text, pos)
        if match is not None and match.group() == self.word:
            return self.word, match.end()
        state.expect(pos, self.word)
        return None


class Token(Element):
    """A literal string."""

    def __init__(self, token: str, action: Action | None = None) -> None:
        super().__init__(action)
        self.token = token

    def _parse(self, state: ParseState, pos: int) -> Result:
        if state.text.startswith(self.token, pos):
            return self.token, pos + len(self.token)
        state.expect(pos, self.token)
        return None


class Tokens(Element):
    """One of several literal strings given space separated (longest tried first)."""

    def __init__(self, spaced: str, action: Action | None = None) -> None:
        super().__init__(action)
        self.spaced = spaced
        self.tokens = sorted(spaced.split(), key=len, reverse=True)

    def _parse(self, state: ParseState, pos: int) -> Result:
        for token in self.tokens:
            if state.text.startswith(token, pos):
                return token, pos + len(token)
        state.expect(pos, self.spaced)
        return None


class Regex(Element):
    """A regular expression anchored at the position; `label` is what errors print."""

    def __init__(self, pattern: str, label: str, action: Action | None = None) -> None:
        super().__init__(action)
        self.regex = re.compile(pattern)
        self.label = label

    def _parse(self, state: ParseState, pos: int) -> Result:
        match = self.regex.match(state.text, pos)
        if match is not None:
            return match.group(), match.end()
        state.expect(pos, self.label)
        return None


class Sequence(Element):
    """All elements in order; the value is the list of their values."""

    def __init__(self, *elements: Element | str, action: Action | None = None) -> None:
        super().__init__(action)
        self.elements = [_element(e) for e in elements]

    def _parse(self, state: ParseState, pos: int) -> Result:
        values = []
        for element in self.elements:
            result = element.parse(state, pos)
            if result is None:
                return None
            values.append(result[0])
            pos = result[1]
        return values, pos


class Choice(Element):
    """The first element that matches, or with most_greedy the longest match."""

    def __init__(self, *elements: Element | str, most_greedy: bool = False,
                 action: Action | None = None) -> None:
        super().__init__(action)
        self.elements = [_element(e) for e in elements]
        self.most_greedy = most_greedy

    def _parse(self, state: ParseState, pos: int) -> Result:
        best: Result = None
        for element in self.elements:
            result = element.parse(state, pos)
            if result is None:
                continue
            if not self.most_greedy:
                return result
            if best is None or result[1] > best[1]:
                best = result
        return best


class Optional(Element):
    """The element or nothing (value None)."""

    def __init__(self, element: Element | str, action: Action | None = None) -> None:
        super().__init__(action)
        self.element = _element(element)

    def _parse(self, state: ParseState, pos: int) -> Result:
        result = self.element.parse(state, pos)
        return (None, pos) if result is None else result


class List(Element):
    """Items separated by a delimiter; the value is (items, delimiters)."""

    def __init__(self, element: Element | str, delimiter: Element | str = ',',
                 minimum: int = 0, maximum: int | None = None,
                 action: Action | None = None) -> None:
        super().__init__(action)
        self.element = _element(element)
        self.delimiter = _element(delimiter)
        self.minimum = minimum
        self.maximum = maximum

    def _parse(self, state: ParseState, pos: int) -> Result:
        items: list[Any] = []
        delimiters: list[Any] = []
        result = self.element.parse(state, pos)
        while result is not None:
            items.append(result[0])
            pos = result[1]
            if self.maximum is not None and len(items) >= self.maximum:
                break
            sep = self.delimiter.parse(state, pos)
            if sep is None:
                break
            result = self.element.parse(state, sep[1])
            if result is not None:
                delimiters.append(sep[0])
        if len(items) < self.minimum:
            return None
        return (items, delimiters), pos


class Ref(Element):
    """A placeholder for a recursive element, set once the grammar is built."""

    def __init__(self) -> None:
        super().__init__()
        self.target: Element | None = None

    def _parse(self, state: ParseState, pos: int) -> Result:
        if self.target is None:
            raise RuntimeError('Ref used before it was set')
        return self.target.parse(state, pos)


class Gated(Element):
    """A part of SiriDB's grammar the server does not implement.

    A normal parse accepts it, so that syntax errors elsewhere list it among the
    alternatives as SiriDB does; a strict parse treats it as absent, which turns a query
    using it into the syntax error SiriDB would give if it lacked the feature.
    """

    def __init__(self, element: Element, action: Action | None = None) -> None:
        super().__init__(action)
        self.element = element

    def _parse(self, state: ParseState, pos: int) -> Result:
        if state.strict:
            return None
        return self.element.parse(state, pos)


def _element(item: Element | str) -> Element:
    return Token(item) if isinstance(item, str) else item


def parse_statement(start: Element, text: str,
                    strict: bool = False) -> tuple[Any, ParseState, bool]:
    """Parse the whole text; returns (value, state, ok).

    When the start element matched but text remains, end_of_statement is expected
    after the match and the white space behind it, as libcleri does.  With strict,
    Gated elements never match.
    """
    state = ParseState(text, strict)
    result = start.parse(state, 0)
    if result is None:
        return None, state, False
    end = state.skip_space(result[1])
    if end < len(text):
        state.expect(end, END_OF_STATEMENT)
        return None, state, False
    return result[0], state, True


def error_message(state: ParseState, byte_pos: int) -> str:
    """Format SiriDB's syntax error message."""
    labels = state.expected_labels()
    if not labels:
        return f'Query error at position {byte_pos}.'
    if len(labels) == 1:
        listed = labels[0]
    else:
        listed = ', '.join(labels[:-1]) + ' or ' + labels[-1]
    return f'Query error at position {byte_pos}. Expecting {listed}'
