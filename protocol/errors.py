"""Stable error codes and the project's protocol exceptions."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Error codes that travel in ERROR bodies; their values never change."""

    MALFORMED = "malformed"          # frames or JSON that cannot be read
    BAD_VERSION = "bad_version"      # protocol tag missing or another version
    UNKNOWN_TYPE = "unknown_type"    # header names no known message type
    INVALID = "invalid"              # body does not match its type's schema, or a bad value
    TOO_LARGE = "too_large"          # message over the size limit
    BAD_SIGNATURE = "bad_signature"  # HMAC missing or wrong while signing is on
    UNKNOWN_CLIENT = "unknown_client"  # peer has not handshaken (or the hub forgot it)
    UNAUTHORIZED = "unauthorized"    # missing or wrong token
    NOT_FOUND = "not_found"          # unknown series, job or action target
    CONFLICT = "conflict"            # e.g. a series that already exists
    UNAVAILABLE = "unavailable"      # hub (or SiriDB) not reachable in time
    INTERNAL = "internal"            # a handler failed; see the hub's log


class ProtocolError(Exception):
    """A message or request that cannot be accepted, with a stable code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        #: id of the message this error answers, when it could be read.
        self.reply_to: str | None = None

    def to_body(self) -> dict[str, str]:
        """Return the ERROR body for this error."""
        return {"code": self.code.value, "message": self.message}

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r})"


class TransportError(Exception):
    """A socket-level failure (translated from zmq errors at the boundary)."""


class RequestTimeout(TransportError):
    """No reply arrived before the deadline."""
