"""Hypothesis strategies for hostile input: ZMQ frames, JSON bodies, tee packages.

Values lean towards what breaks decoders: huge and negative numbers, floats that JSON
cannot carry back (1e400 reads as inf), lone UTF-16 surrogate escapes, deep nesting,
wrong types for every schema key, and the protocol's own type and action names so that
the handlers behind the decoder are reached too.
"""

from __future__ import annotations

import enum
import struct
import types
import typing
from typing import Any

import msgspec
import qpack
from hypothesis import strategies as st

from actors.hub.actions import ACTIONS
from protocol.bodies import BODIES
from protocol.envelope import dumps
from protocol.types import PROTOCOL_TAG, MessageType

TYPE_NAMES = [t.value for t in MessageType] + ["UNKNOW_CLIENT"]
ACTION_NAMES = sorted(ACTIONS)
#: Raw JSON snippets a serialiser never writes but a hostile peer may.
HOSTILE_JSON = [
    b"NaN", b"Infinity", b"-Infinity", b'"\\ud800"', b'"\\udfff x"', b'"\xed\xa0\x80"',
    b'"a\\u0000b"', b"1e400", b"-1e400", b"1" * 40, b"-" + b"9" * 30, b"18446744073709551616",
    b"[" * 40 + b"]" * 40, b"0.0", b"-0", b"true", b"null", b'""', b"{}", b"[]",
    b'"' + b"x" * 300 + b'"',
]

small_ints = st.integers(min_value=-(2**70), max_value=2**70)
json_scalars = (
    st.none() | st.booleans() | small_ints
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
#: JSON values the decoder lets through (integers within 64 bits): reach the handlers.
wire_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)


def typed_values(types: tuple[type, ...]) -> st.SearchStrategy:
    """A value of one of the JSON types a schema key allows, with hostile contents."""
    by_type = {
        str: st.text(max_size=20) | st.sampled_from(["", "x" * 200, "a\x00b", "arima",
                                                     "listener", "worker", "client"]),
        int: small_ints | st.sampled_from([0, -1, 2**63, 2**64, 10**30]),
        float: st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from([0.0, -0.0, 1e308, -1e308]),
        bool: st.booleans(),
        dict: st.dictionaries(st.text(max_size=8), json_values, max_size=4),
        list: st.lists(st.text(max_size=8) | json_values, max_size=4),
    }
    return st.one_of([by_type[t] for t in types if t in by_type] or [json_values])


#: Stands for a hostile raw JSON snippet until the value is serialised.
SENTINEL = "@@hostile@@"


def _splice(value: object, hostile: bytes | None) -> bytes:
    """Serialise value with the raw hostile snippet in place of the SENTINEL string."""
    raw = dumps(value)
    if hostile is None:
        return raw
    return raw.replace(b'"' + SENTINEL.encode() + b'"', hostile, 1)


def _json_types(annotation: Any) -> tuple[type, ...]:
    """The JSON types (as Python types) a shape's field annotation admits."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _json_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(annotation) for t in _json_types(arg))
    if origin in (dict, list):
        return (origin,)
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return (str,)
        if issubclass(annotation, msgspec.Struct):
            return (dict,)
        if annotation in (str, int, float, bool, dict, list):
            return (annotation,)
    return ()


def body_fields(msg_type: MessageType) -> dict[str, tuple[type, ...]]:
    """Each key of msg_type's body and the JSON types it admits."""
    return {f.name: _json_types(f.type) for f in msgspec.structs.fields(BODIES[msg_type])}


@st.composite
def schema_bodies(draw: st.DrawFn, msg_type: str) -> bytes:
    """A body shaped like msg_type's schema (or an API request's), with hostile values."""
    try:
        fields = body_fields(MessageType(msg_type))
    except ValueError:
        fields = {}
    body: dict[str, object] = {}
    for key, json_types in fields.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # a required key missing now and then
        body[key] = draw(typed_values(json_types) if draw(st.booleans()) else json_values)
    if msg_type == MessageType.API_REQUEST.value:
        body["action"] = draw(st.sampled_from(ACTION_NAMES) | st.text(max_size=10))
        params = draw(st.dictionaries(
            st.sampled_from(["name", "limit", "settings", "job_type", "model",
                             "model_parameters", "realtime"]) | st.text(max_size=6),
            json_values, max_size=3))
        body["params"] = params
    if draw(st.integers(0, 7)) == 0:
        body[draw(st.text(max_size=6))] = draw(json_values)  # an unexpected key
    hostile = draw(st.none() | st.sampled_from(HOSTILE_JSON))
    if hostile is not None:
        target = body
        if msg_type == MessageType.API_REQUEST.value and draw(st.booleans()):
            target = body["params"]
        target[draw(st.sampled_from(sorted(target)) if target else st.just("x"))] = SENTINEL
    return _splice(body, hostile)


@st.composite
def headers(draw: st.DrawFn, msg_type: str) -> bytes:
    """A header frame: usually well formed, sometimes with wrong keys or types."""
    header: dict[str, object] = {
        "type": msg_type, "id": draw(st.text(min_size=1, max_size=12)),
        "reply_to": draw(st.none() | st.text(max_size=8)), "sender": draw(st.text(max_size=8)),
    }
    mutation = draw(st.integers(0, 9))
    if mutation == 0:
        header.pop(draw(st.sampled_from(sorted(header))))
    elif mutation == 1:
        header[draw(st.sampled_from(sorted(header)))] = draw(json_values)
    elif mutation == 2:
        header["extra"] = 1
    hostile = None
    if mutation in (3, 4):
        hostile = draw(st.sampled_from(HOSTILE_JSON))
        header[draw(st.sampled_from(["type", "id", "reply_to", "sender"]))] = SENTINEL
    return _splice(header, hostile)


@st.composite
def protocol_messages(draw: st.DrawFn) -> list[bytes]:
    """Four frames in the protocol's layout with a real (or near) type and a hostile body."""
    msg_type = draw(st.sampled_from(TYPE_NAMES) | st.text(max_size=12))
    tag = draw(st.just(PROTOCOL_TAG) | st.sampled_from([b"ENODO/2", b"", b"ENODO/1 "]))
    signature = draw(st.just(b"") | st.binary(max_size=64))
    body = draw(schema_bodies(msg_type) | st.binary(max_size=64) | st.sampled_from(HOSTILE_JSON))
    frames = [tag, signature, draw(headers(msg_type)), body]
    if draw(st.integers(0, 9)) == 0:
        frames = frames[: draw(st.integers(0, 3))] + [b"x"] * draw(st.integers(0, 2))
    return frames


raw_frames = st.lists(st.binary(max_size=80), min_size=1, max_size=6)
#: Anything a ZMQ peer can send: raw frames or protocol-shaped messages.
frames = raw_frames | protocol_messages()

# -- tee packages -------------------------------------------------------------------
TEE_HEADER = struct.Struct("<IHBB")
qpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
    | st.binary(max_size=12) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.binary(max_size=8) | st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
#: QPack control bytes: containers opened and closed, the shapes the decoder must refuse.
QPACK_BYTES = bytes(range(0xE8, 0x100)) + b"\x00\x01\x7f\x80\x81\x85"


@st.composite
def tee_bodies(draw: st.DrawFn) -> bytes:
    """A package body: SiriDB-shaped, QPack of anything, or QPack control-byte soup."""
    kind = draw(st.integers(0, 3))
    if kind == 0:  # SiriDB's open map of name -> points, with hostile names and points
        parts = [b"\xfd"]
        for _ in range(draw(st.integers(0, 3))):
            parts.append(qpack.packb(draw(st.binary(max_size=10)) + b"\x00"))
            parts.append(qpack.packb(draw(st.lists(qpack_values, max_size=4))))
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from([b"\xff", b"\xfe", b"\xfc", b""])))
        return b"".join(parts)
    if kind == 1:
        return qpack.packb(draw(qpack_values))
    soup = st.lists(st.sampled_from(list(QPACK_BYTES)) | st.integers(0, 255), max_size=40)
    return draw(st.sampled_from([b"\xfd", b"\xfc", b""])) + bytes(draw(soup))


@st.composite
def tee_streams(draw: st.DrawFn) -> list[bytes]:
    """What one tee connection sends, as chunks: packages, lies about lengths, cut-offs."""
    data = bytearray()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 5))
        if kind <= 2:  # a framed package, header fields random (the tee frames on length)
            body = draw(tee_bodies())
            data += TEE_HEADER.pack(len(body), draw(st.integers(0, 65535)),
                                    draw(st.integers(0, 255)), draw(st.integers(0, 255))) + body
        elif kind == 3:  # a huge declared length, then a few bytes and the end
            length = draw(st.integers(2**20, 2**32 - 1))
            data += TEE_HEADER.pack(length, 0, 0, 0) + draw(st.binary(max_size=16))
        elif kind == 4:  # a partial package: the length says more than what follows
            body = draw(tee_bodies())
            data += TEE_HEADER.pack(len(body) + draw(st.integers(1, 50)), 0, 0, 0) + body
        else:
            data += draw(st.binary(max_size=40))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    chunks, start = [], 0
    for cut in cuts + [len(data)]:
        if cut > start:
            chunks.append(bytes(data[start:cut]))
            start = cut
    return chunks
