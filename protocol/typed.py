"""The base of every typed shape that crosses a process, and its one way of being checked.

Shapes are msgspec Structs: msgspec checks them in C while it decodes, and gives their
JSON Schema (the OpenAPI document is built from it). `Shape` adds read access by key
(`body["name"]`, `body.get("realtime", False)`), so code written against the JSON
objects of the wire reads a typed body unchanged; an optional key the sender left out is
`UNSET`, and reads as absent, so nothing a peer did not send is made up on the way.

`convert` turns a decoded JSON value into a shape and words msgspec's complaints the way
the protocol always has ("'name' must be str, not int", "missing key 'name'",
"unexpected key 'x'"): peers and tests match on those messages.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from protocol.errors import ErrorCode, ProtocolError

__all__ = ["INT64", "UNSET", "Int64", "Meta", "Shape", "UnsetType", "convert", "explain"]

INT64 = 2**63  # JSON integers the wire carries are within [-INT64, INT64)
Int64 = Annotated[int, Meta(ge=-INT64, le=INT64 - 1)]

S = TypeVar("S")


class Shape(msgspec.Struct, forbid_unknown_fields=True, eq=False, omit_defaults=True):
    """A typed JSON object: unknown keys refused, absent optional keys left out again."""

    def __getitem__(self, key: str) -> Any:
        value = getattr(self, key, UNSET) if key in self.__struct_fields__ else UNSET
        if value is UNSET:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """The value of key, or default when the sender left it out."""
        value = getattr(self, key, UNSET) if key in self.__struct_fields__ else UNSET
        return default if value is UNSET else value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, UNSET) is not UNSET

    def keys(self) -> list[str]:
        """The keys present, in declaration order."""
        return [k for k in self.__struct_fields__ if getattr(self, k) is not UNSET]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def items(self) -> list[tuple[str, Any]]:
        """(key, value) of the keys present."""
        return [(k, getattr(self, k)) for k in self.keys()]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this shape is (nested shapes too), as plain Python values."""
        return msgspec.to_builtins(self)

    # ujson serialises an object through its toDict(): bodies can be logged or stored as is.
    toDict = to_dict  # noqa: N815 - the name ujson looks for

    def __eq__(self, other: object) -> bool:
        # A body equals the JSON object it stands for, so tests can compare with a dict.
        if isinstance(other, Shape | dict):
            mine = self.to_dict()
            return mine == (other.to_dict() if isinstance(other, Shape) else other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def convert(value: Any, shape: type[S], what: str) -> S:
    """Return value (decoded JSON) as shape, or raise ProtocolError(INVALID) naming the key."""
    try:
        return msgspec.convert(value, shape)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.INVALID, explain(exc, what, shape, value)) from None


def _choices(shape: Any, key: str) -> str | None:
    """The values an enum field of shape allows, for a message; None when not an enum."""
    try:
        field = next(f for f in msgspec.structs.fields(shape) if f.name == key)
    except (StopIteration, TypeError):
        return None
    for kind in getattr(field.type, "__args__", None) or (field.type,):
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return ", ".join(str(m.value) for m in kind)
    return None


#: msgspec's names of JSON types, as the protocol's messages have always named them.
_TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "object": "dict", "array": "list",
               "bool": "bool", "null": "NoneType", "number": "float"}
#: Constraints worded as the protocol words them.
_RULES = {"of length >= 1": "must not be empty",
          "matching regex '^[^\\x00]*$'": "must not contain NUL",
          "of length <= 65535": "longer than 65535 bytes"}
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_KEY = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([^\]]*)\]")


def explain(exc: msgspec.ValidationError, what: str, shape: Any = None,
            value: Any = None) -> str:
    """Word a msgspec complaint as '<what>: <key> <problem>'.

    A shape may word its own problems: `reword(value)` (given the refused JSON value)
    returns the whole complaint, BOUNDS maps a key to what its value "must be".
    """
    reword = getattr(shape, "reword", None)
    if reword is not None and value is not None:
        text = reword(value)
        if text:
            return f"{what}: {text}"
    text = str(exc)
    match = _PATH.search(text)
    path = match.group("path") if match else ""
    text = text[: match.start()] if match else text
    keys = [m.group(1) or m.group(2) for m in _KEY.finditer(path)]
    where = ".".join(k for k in keys if k != "...")
    bounds = getattr(shape, "BOUNDS", None) or {}
    if text.startswith("Object missing required field `"):
        field = text.split("`")[1]
        return f"{what}: missing key {_dotted(where, field)!r}"
    if text.startswith("Object contains unknown field `"):
        field = text.split("`")[1]
        return f"{what}: unexpected key {_dotted(where, field)!r}"
    wanted = re.match(r"Expected `([^`]*)`, got `([^`]*)`$", text)
    if wanted:
        names = "/".join(_TYPE_NAMES.get(t.strip(), t.strip()) for t in wanted.group(1).split("|"))
        got = _TYPE_NAMES.get(wanted.group(2), wanted.group(2))
        return f"{what}: {where!r} must be {names}, not {got}" if where else \
            f"{what}: must be a JSON {names}, not {got}"
    bound = re.match(r"Expected `([^`]*)` (.*)$", text)
    if bound and where in bounds:
        return f"{what}: {where!r} must be {bounds[where]}"
    if bound:
        rule = bound.group(2)
        return f"{what}: {where!r} {_RULES.get(rule, 'must be ' + rule)}"
    if text.startswith("Invalid enum value") and where in bounds:
        return f"{what}: {where!r} must be {bounds[where]}"
    if text.startswith("Invalid enum value"):
        choices = _choices(shape, where) if shape is not None else None
        if choices:
            return f"{what}: {where!r} must be one of {choices}"
        return f"{what}: {where!r} is not one of the values allowed ({text.split(' ', 3)[3]})"
    # A __post_init__ complaint names its key itself.
    return f"{what}: {where + ' ' if where else ''}{text}"


def _dotted(where: str, field: str) -> str:
    return f"{where}.{field}" if where else field
