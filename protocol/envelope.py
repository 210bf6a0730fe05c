"""The envelope: turns a Message into ZMQ frames and back, signing included.

Frames of one message, after any routing frames a ROUTER socket adds:

    [PROTOCOL_TAG, signature, header, body]

header is a JSON object {"type", "id", "reply_to", "sender"}; body is a JSON object
whose keys are fixed by the type's schema; signature is the hex HMAC-SHA256 of
header + body under the shared key, or empty when no key is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import os
from dataclasses import dataclass, field
from typing import Any

import ujson

from protocol.errors import ErrorCode, ProtocolError
from protocol.schemas import CLOSED, INT64, validate_body
from protocol.types import PROTOCOL_TAG, MessageType, parse_type

DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
HEADER_KEYS = frozenset({"type", "id", "reply_to", "sender"})
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
    body: dict[str, Any] = field(default_factory=dict)
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
    numbers) and UnicodeEncodeError for a lone surrogate.
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
        """Return the frames for msg (the body is validated first).

        With session_key, frame 1 also carries the session MAC: `<signature>.<session MAC>`.
        """
        validate_body(msg.type, msg.body)
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
        header = _load(raw_header, "header", numbers=False)  # its values must be strings
        msg_id = header.get("id")
        try:
            msg = self._check_header(header)
            closed = msg.type in CLOSED
            body = _load(raw_body, "body", numbers=not closed)
            try:
                validate_body(msg.type, body)
            except ProtocolError:
                # A closed body's check reaches every number: one that passed it holds none
                # the wire must not carry, one that failed is named here as not JSON-safe.
                problem = _unsendable(body) if closed else None
                if problem:
                    raise ProtocolError(ErrorCode.MALFORMED, f"body: {problem}") from None
                raise
        except ProtocolError as exc:
            exc.reply_to = msg_id if isinstance(msg_id, str) else None
            raise
        msg.body = body
        if dot:
            msg.session_mac, msg.signed = session, (raw_header, raw_body)
        return msg

    @staticmethod
    def _check_header(header: dict[str, Any]) -> Message:
        if header.keys() != HEADER_KEYS:
            raise ProtocolError(
                ErrorCode.MALFORMED, f"header keys must be {sorted(HEADER_KEYS)}"
            )
        for key in ("type", "id", "sender"):
            if not isinstance(header[key], str):
                raise ProtocolError(ErrorCode.MALFORMED, f"header {key!r} must be a string")
        if header["reply_to"] is not None and not isinstance(header["reply_to"], str):
            raise ProtocolError(ErrorCode.MALFORMED, "header 'reply_to' must be a string or null")
        try:
            msg_type = parse_type(header["type"])
        except KeyError:
            raise ProtocolError(
                ErrorCode.UNKNOWN_TYPE, f"unknown message type {header['type'][:64]!r}"
            ) from None
        return Message(msg_type, {}, header["id"], header["reply_to"], header["sender"])


def mac_hex(key: bytes, header: bytes, body: bytes) -> bytes:
    """The lower-case hex HMAC-SHA256 of header then body under key."""
    mac = hmac.new(key, header, hashlib.sha256)
    mac.update(body)
    return mac.hexdigest().encode()


def _load(raw: bytes, what: str, numbers: bool = True) -> dict[str, Any]:
    try:
        value = ujson.loads(raw)
    except (ValueError, OverflowError, UnicodeDecodeError) as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError(ErrorCode.MALFORMED, f"{what} must be a JSON object")
    if _suspect(raw, numbers):
        problem = _unsendable(value)
        if problem:
            raise ProtocolError(ErrorCode.MALFORMED, f"{what}: {problem}")
    return value


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
