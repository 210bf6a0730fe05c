"""The envelope: turns a Message into ZMQ frames and back, signing included.

Frames of one message, after any routing frames a ROUTER socket adds:

    [PROTOCOL_TAG, signature, header, body]

header is a JSON object {"type", "id", "reply_to", "sender"}; body is a JSON object
whose shape is fixed by the type (protocol/bodies.py); signature is the hex HMAC-SHA256
of header + body under the shared key, or empty when no key is configured.

Decoding reads the header and then the body straight into its typed shape (msgspec, in
C); a sender's plain dict is checked against the same shape and written as it is, so the
JSON on the wire does not depend on whether a sender built a dict or a shape.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import os
from dataclasses import dataclass, field
from typing import Any

import msgspec
import ujson

from protocol.bodies import BODIES, CLOSED
from protocol.errors import ErrorCode, ProtocolError
from protocol.typed import INT64, Shape, convert, explain
from protocol.types import PROTOCOL_TAG, MessageType, parse_type

DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
HEADER_KEYS = frozenset({"type", "id", "reply_to", "sender"})


class Header(msgspec.Struct, forbid_unknown_fields=True):
    """Frame 2: who sent what, and what it answers."""

    type: str
    id: str
    reply_to: str | None
    sender: str


_HEADER = msgspec.json.Decoder(Header)
_BODY = {msg_type: msgspec.json.Decoder(shape) for msg_type, shape in BODIES.items()}
_ANY = msgspec.json.Decoder()
#: Raw JSON that may decode to what the wire must not carry: a lone UTF-16 surrogate (escaped,
#: or as raw bytes ujson lets through), NaN or Infinity (not JSON), a float beyond the double
#: range (read as inf), an integer beyond 64 bits. Only a frame that `_suspect` flags is
#: walked. (A regex over the frame did the same and cost 9x the JSON parse itself.)
#: Bytes that may start one: a backslash (a \\u escape), 0xED (a surrogate's UTF-8 lead byte),
#: N and I (NaN, Infinity); all found in one C-level pass (bytes.translate's delete).
_TEXT_MARKERS = b"\\\xed"
_VALUE_MARKERS = b"\\\xedNI"
#: Digits to "0", "E" to "e", "-" to "+": a long integer is then a run of 19 "0"s, and a
#: 3-digit exponent "0e000" or "0e+000", each found with a plain substring search.
_NUMBER_SHAPES = bytes.maketrans(b"0123456789E-", b"0000000000e+")
_LONG_INT = b"0" * 19

_id_prefix = os.urandom(6).hex()
_id_counter = itertools.count(1)


def new_message_id() -> str:
    """Return an id unique to this process run (random prefix, then a counter)."""
    return f"{_id_prefix}{next(_id_counter):x}"


@dataclass(slots=True)
class Message:
    """One protocol message; sender is filled in by the Codec when it is sent."""

    type: MessageType
    #: A typed shape once decoded (read it by attribute or by key); a sender may pass a dict.
    body: Any = field(default_factory=dict)
    id: str = field(default_factory=new_message_id)
    reply_to: str | None = None
    sender: str = ""
    #: A received message's session MAC (frame 1 after the "."; b"" when it had none) and the
    #: raw header and body frames it covers, for protocol.session.verify.
    session_mac: bytes = b""
    signed: tuple[bytes, bytes] | None = None


def dumps(obj: Any) -> bytes:
    """Serialise a JSON value the way the wire wants it (UTF-8, no escaped slashes).

    Raises OverflowError for NaN and infinities (ujson would write them, JSON has no such
    numbers) and UnicodeEncodeError for a lone surrogate. Shapes are written as the JSON
    objects they are (ujson calls their toDict()).
    """
    return ujson.dumps(
        obj, ensure_ascii=False, escape_forward_slashes=False, allow_nan=False
    ).encode()


class Codec:
    """Encodes and decodes messages for one peer: its sender id, key and size limit."""

    def __init__(
        self,
        sender: str,
        key: bytes | None = None,
        max_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self.sender = sender
        self.key = key or None
        self.max_size = max_size

    def sign(self, header: bytes, body: bytes) -> bytes:
        """Return the hex signature of header + body, or b'' without a key."""
        if self.key is None:
            return b""
        return mac_hex(self.key, header, body)

    def encode(self, msg: Message, session_key: bytes | None = None) -> list[bytes]:
        """Return the frames for msg (the body is checked against its type's shape first).

        With session_key, frame 1 also carries the session MAC: `<signature>.<session MAC>`.
        """
        check_body(msg.type, msg.body)
        try:
            header = dumps({
                "type": msg.type.value, "id": msg.id, "reply_to": msg.reply_to,
                "sender": self.sender,
            })
            body = dumps(msg.body)
        except (OverflowError, TypeError, ValueError) as exc:
            # ValueError includes UnicodeEncodeError: a lone surrogate is not UTF-8 text.
            raise ProtocolError(ErrorCode.INVALID, f"message cannot be serialised: {exc}") from exc
        # What the receiver's decode() would refuse is refused here, as the sender's error.
        if _suspect(body):
            problem = _unsendable(msg.body)
            if problem:
                raise ProtocolError(ErrorCode.INVALID, f"body: {problem}")
        if len(header) + len(body) > self.max_size:
            raise ProtocolError(ErrorCode.TOO_LARGE, f"message over {self.max_size} bytes")
        signature = self.sign(header, body)
        if session_key is not None:
            signature += b"." + mac_hex(session_key, header, body)
        return [PROTOCOL_TAG, signature, header, body]

    def decode(self, frames: list[bytes]) -> Message:
        """Turn frames into a Message or raise ProtocolError with a stable code.

        When the header could be read, the error's reply_to is the message's id, so
        the peer can match the ERROR reply to its request.
        """
        if len(frames) != 4:
            raise ProtocolError(ErrorCode.MALFORMED, f"expected 4 frames, got {len(frames)}")
        tag, signature, raw_header, raw_body = frames
        if tag != PROTOCOL_TAG:
            shown = bytes(tag[:16])
            raise ProtocolError(
                ErrorCode.BAD_VERSION, f"protocol tag {shown!r}, expected {PROTOCOL_TAG!r}"
            )
        if len(raw_header) + len(raw_body) > self.max_size:
            raise ProtocolError(ErrorCode.TOO_LARGE, f"message over {self.max_size} bytes")
        signature, dot, session = bytes(signature).partition(b".")
        if self.key is not None and not hmac.compare_digest(
            signature, self.sign(raw_header, raw_body)
        ):
            raise ProtocolError(ErrorCode.BAD_SIGNATURE, "signature missing or wrong")
        try:
            header = _HEADER.decode(raw_header)
        except msgspec.ValidationError as exc:
            raise ProtocolError(ErrorCode.MALFORMED, _header_problem(exc)) from None
        except msgspec.DecodeError as exc:
            raise ProtocolError(ErrorCode.MALFORMED, f"header is not valid JSON: {exc}") from None
        try:
            msg = self._check_header(header)
            msg.body = _decode_body(msg.type, raw_body)
        except ProtocolError as exc:
            exc.reply_to = header.id
            raise
        if dot:
            msg.session_mac, msg.signed = session, (raw_header, raw_body)
        return msg

    @staticmethod
    def _check_header(header: Header) -> Message:
        try:
            msg_type = parse_type(header.type)
        except KeyError:
            raise ProtocolError(
                ErrorCode.UNKNOWN_TYPE, f"unknown message type {header.type[:64]!r}"
            ) from None
        return Message(msg_type, {}, header.id, header.reply_to, header.sender)


def mac_hex(key: bytes, header: bytes, body: bytes) -> bytes:
    """The lower-case hex HMAC-SHA256 of header then body under key."""
    mac = hmac.new(key, header, hashlib.sha256)
    mac.update(body)
    return mac.hexdigest().encode()


def _header_problem(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    if text.startswith(("Object missing", "Object contains")):
        return f"header keys must be {sorted(HEADER_KEYS)}"
    if text.startswith("Expected `object`"):
        return "header must be a JSON object"
    key = text.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in text else "?"
    if key == "reply_to":
        return "header 'reply_to' must be a string or null"
    return f"header {key!r} must be a string"


def check_body(msg_type: MessageType, body: Any) -> Any:
    """Return body as its type's shape, or raise ProtocolError(INVALID) naming the bad key."""
    shape = BODIES[msg_type]
    if type(body) is shape:
        return body
    if not isinstance(body, dict):
        raise ProtocolError(ErrorCode.INVALID, f"{msg_type}: body must be a JSON object")
    return convert(body, shape, msg_type.value)


def _decode_body(msg_type: MessageType, raw: bytes) -> Any:
    """Decode raw straight into msg_type's shape; MALFORMED or INVALID with the reason."""
    try:
        body = _BODY[msg_type].decode(raw)
    except msgspec.ValidationError as exc:  # (a DecodeError too: caught first)
        # What no JSON reader could carry on is MALFORMED, whichever key it sits in.
        problem = _raw_problem(raw) if _suspect(raw) else None
        if problem:
            raise ProtocolError(ErrorCode.MALFORMED, f"body: {problem}") from None
        if str(exc).startswith("Expected `object`"):
            raise ProtocolError(ErrorCode.MALFORMED, "body must be a JSON object") from None
        shape = BODIES[msg_type]
        try:
            refused = _ANY.decode(raw) if hasattr(shape, "reword") else None  # to name the key
        except msgspec.DecodeError as bad:  # further on than the first problem msgspec met
            raise ProtocolError(ErrorCode.MALFORMED, f"body is not valid JSON: {bad}") from None
        raise ProtocolError(ErrorCode.INVALID, explain(exc, msg_type.value, shape, refused)) \
            from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"body is not valid JSON: {exc}") from None
    # msgspec refuses NaN, infinities, out-of-range floats and lone surrogates as it reads;
    # an integer beyond 64 bits can still sit in an untyped value (RESPONSE_OK's data).
    if msg_type not in CLOSED and _suspect(raw):
        problem = _raw_problem(raw)
        if problem:
            raise ProtocolError(ErrorCode.MALFORMED, f"body: {problem}")
    return body


def _raw_problem(raw: bytes) -> str | None:
    try:
        value = _ANY.decode(raw)
    except msgspec.ValidationError:  # msgspec: "Number out of range"
        return "a number is NaN or infinite (out of the double range)"
    except msgspec.DecodeError as exc:
        return f"not valid JSON: {exc}"
    return _unsendable(value)


def _suspect(raw: bytes, numbers: bool = True) -> bool:
    """True when raw JSON may hold what `_unsendable` looks for (false alarms are fine).

    numbers=False looks for lone surrogates only (where checks after it see every number).
    """
    markers = _VALUE_MARKERS if numbers else _TEXT_MARKERS
    if len(raw.translate(None, markers)) != len(raw):
        return True
    if not numbers:
        return False
    shapes = raw.translate(_NUMBER_SHAPES)
    return _LONG_INT in shapes or b"0e000" in shapes or b"0e+000" in shapes


def _unsendable(value: Any) -> str | None:
    """Say what in a decoded JSON value could not be stored or sent on, or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            try:
                item.encode()
            except UnicodeEncodeError:
                return "a string holds a lone UTF-16 surrogate (not Unicode text)"
        elif kind is float:
            if not math.isfinite(item):
                return "a number is NaN or infinite (out of the double range)"
        elif kind is int:
            if not -INT64 <= item < INT64:
                return "an integer is beyond the signed 64-bit range"
        elif kind is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif isinstance(item, Shape):
            stack.append(item.to_dict())
    return None


def reply(to: Message, msg_type: MessageType, body: dict[str, Any]) -> Message:
    """Return a message of msg_type answering `to`."""
    return Message(msg_type, body, reply_to=to.id)


def ok(to: Message, data: Any = None) -> Message:
    """Return RESPONSE_OK answering `to`, carrying data."""
    return Message(MessageType.RESPONSE_OK, {"data": data}, reply_to=to.id)


def error(to_id: str | None, code: ErrorCode, message: str) -> Message:
    """Return an ERROR message answering the message with id to_id."""
    return Message(MessageType.ERROR, {"code": code.value, "message": message}, reply_to=to_id)
