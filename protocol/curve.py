"""CurveZMQ on the project's sockets: the hub's binds are servers, its peers clients.

Keys are Z85 text (40 characters for 32 bytes), as `zmq.curve_keypair()` makes them.
A client needs the server's public key; its own key pair may be throw-away, because
the hub does not check client keys (peers prove who they are with the token in
HANDSHAKE). What CURVE adds is encryption and the certainty of talking to the hub
that holds the secret key: a peer with another server key never gets a connection.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import zmq
import zmq.utils.z85

from protocol.errors import TransportError

Z85_KEY_LENGTH = 40


def check_z85_key(value: str) -> str | None:
    """Check for a CURVE key in Z85 text (40 characters), or empty.

    The message never repeats the value (it may be a secret key).
    """
    if not value:
        return None
    if len(value) != Z85_KEY_LENGTH:
        return f"must be a {Z85_KEY_LENGTH}-character Z85 CURVE key"
    try:
        zmq.utils.z85.decode(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError, KeyError, OverflowError, struct.error):
        return "must be a Z85 CURVE key"
    return None


def public_key_of(secret_key: bytes) -> bytes:
    """Return the Z85 public key belonging to a Z85 secret key."""
    try:
        return zmq.curve_public(secret_key)
    except (zmq.ZMQError, ValueError) as exc:
        raise TransportError(f"not a CURVE secret key: {exc}") from None


def curve_available() -> bool:
    """True when libzmq was built with CURVE (libsodium)."""
    return bool(zmq.has("curve"))


@dataclass(frozen=True)
class CurveServer:
    """Server side of CURVE: set on every socket the hub binds."""

    secret_key: bytes = field(repr=False)

    @property
    def public_key(self) -> bytes:
        """The key peers must know."""
        return public_key_of(self.secret_key)

    def apply(self, sock: zmq.Socket) -> None:
        """Make sock a CURVE server (before bind)."""
        sock.setsockopt(zmq.CURVE_SERVER, 1)
        sock.setsockopt(zmq.CURVE_SECRETKEY, self.secret_key)


@dataclass(frozen=True)
class CurveClient:
    """Client side of CURVE: the server's public key and this peer's key pair."""

    server_key: bytes
    public_key: bytes
    secret_key: bytes = field(repr=False)

    @classmethod
    def for_server(cls, server_key: bytes) -> CurveClient:
        """Return a client with a fresh throw-away key pair for this process."""
        public, secret = zmq.curve_keypair()
        return cls(server_key, public, secret)

    def apply(self, sock: zmq.Socket) -> None:
        """Make sock a CURVE client of the server (before connect)."""
        sock.setsockopt(zmq.CURVE_SERVERKEY, self.server_key)
        sock.setsockopt(zmq.CURVE_PUBLICKEY, self.public_key)
        sock.setsockopt(zmq.CURVE_SECRETKEY, self.secret_key)


Curve = CurveServer | CurveClient
