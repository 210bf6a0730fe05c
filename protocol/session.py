"""Per-session keys: what proves a job came from the hub and a result from its worker.

At HANDSHAKE a worker sends a fresh random nonce; the hub answers HANDSHAKE_OK with one
of its own. Both then hold the session key

    HMAC-SHA256(token, "enodo-session/1" NUL client_id NUL worker nonce NUL hub nonce)

which nobody without the hub's token can compute, even after seeing both nonces (the
token never needs to travel again, and with CURVE nothing travels in clear anyway). Every
job the hub sends and every JOB_* message a worker sends carries an HMAC-SHA256 of its
header and body frames under that key (the envelope's frame 1, after a "."), so a result
counts only from the session the job was given to.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from protocol.envelope import Message, mac_hex

#: Random bytes of a nonce (sent as hex; the schema takes 32 to 128 hex digits).
NONCE_BYTES = 16
_LABEL = b"enodo-session/1"


def new_nonce() -> str:
    """A fresh random nonce, as lower-case hex."""
    return os.urandom(NONCE_BYTES).hex()


def session_key(token: str, client_id: str, client_nonce: str, hub_nonce: str) -> bytes:
    """The key both sides derive after a handshake (see the module's docstring)."""
    data = b"\0".join((_LABEL, client_id.encode(), client_nonce.encode(), hub_nonce.encode()))
    return hmac.new(token.encode(), data, hashlib.sha256).digest()


def verify(key: bytes | None, msg: Message) -> bool:
    """True when msg carries a session MAC that key proves (constant-time compare)."""
    if key is None or msg.signed is None or not msg.session_mac:
        return False
    header, body = msg.signed
    return hmac.compare_digest(msg.session_mac, mac_hex(key, header, body))
