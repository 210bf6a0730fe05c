"""The Enodo wire protocol: message types, envelope, schemas, errors, socket boundary."""

from protocol.envelope import Codec, Message, error, ok, reply
from protocol.errors import ErrorCode, ProtocolError, RequestTimeout, TransportError
from protocol.types import PROTOCOL_TAG, PROTOCOL_VERSION, ClientType, MessageType

__all__ = [
    "PROTOCOL_TAG",
    "PROTOCOL_VERSION",
    "ClientType",
    "Codec",
    "ErrorCode",
    "Message",
    "MessageType",
    "ProtocolError",
    "RequestTimeout",
    "TransportError",
    "error",
    "ok",
    "reply",
]
