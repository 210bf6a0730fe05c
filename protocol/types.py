"""Message types, client types and the protocol version."""

from __future__ import annotations

import enum

PROTOCOL_VERSION = 1
#: First frame of every message: a magic word and the protocol version.
PROTOCOL_TAG = b"ENODO/%d" % PROTOCOL_VERSION


class MessageType(enum.StrEnum):
    """Every message type on the wire; the value is what travels in the header."""

    # The seed table.
    HANDSHAKE = "HANDSHAKE"
    UNKNOWN_CLIENT = "UNKNOWN_CLIENT"
    SHUTDOWN = "SHUTDOWN"
    ADD_SERIE = "ADD_SERIE"
    REMOVE_SERIE = "REMOVE_SERIE"
    UPDATE_SERIES = "UPDATE_SERIES"
    HANDSHAKE_OK = "HANDSHAKE_OK"
    HANDSHAKE_FAIL = "HANDSHAKE_FAIL"
    HEARTBEAT = "HEARTBEAT"
    LISTENER_ADD_SERIE_COUNT = "LISTENER_ADD_SERIE_COUNT"
    RESPONSE_OK = "RESPONSE_OK"
    TRAIN_MODEL = "TRAIN_MODEL"
    FIT_MODEL = "FIT_MODEL"
    FORECAST_SERIE = "FORECAST_SERIE"
    # What the design adds.
    ERROR = "ERROR"
    API_REQUEST = "API_REQUEST"
    SUBSCRIBE = "SUBSCRIBE"
    UNSUBSCRIBE = "UNSUBSCRIBE"
    SERIES_UPDATE = "SERIES_UPDATE"
    JOB_ACCEPTED = "JOB_ACCEPTED"
    JOB_REFUSED = "JOB_REFUSED"
    JOB_RESULT = "JOB_RESULT"
    JOB_FAILED = "JOB_FAILED"
    # Watch by pattern (protocol/patterns.py).
    UPDATE_PATTERNS = "UPDATE_PATTERNS"
    SERIES_SEEN = "SERIES_SEEN"


#: Spellings accepted on input besides the canonical names (the seed wrote UNKNOW_CLIENT).
TYPE_ALIASES: dict[str, MessageType] = {"UNKNOW_CLIENT": MessageType.UNKNOWN_CLIENT}


class ClientType(enum.StrEnum):
    """What a peer says it is in its HANDSHAKE."""

    LISTENER = "listener"
    WORKER = "worker"
    CLIENT = "client"


def parse_type(name: str) -> MessageType:
    """Map a header's type name to a MessageType; raise KeyError when unknown."""
    try:
        return MessageType(name)
    except ValueError:
        return TYPE_ALIASES[name]
