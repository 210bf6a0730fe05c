"""Console sessions: a signed cookie after a login with the REST token, and CSRF tokens.

Nothing is kept on the server (gunicorn workers share no memory): the cookie holds the
role, an expiry and a random nonce, signed with HMAC keyed by the token that logged in.
So a session dies when its token changes, and any worker can check any session. The CSRF
token is an HMAC of the session's nonce: tied to the session, unknown to another site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "enodo_console"
#: Seconds a login lasts.
SESSION_TTL = 12 * 3600
ADMIN, READER = "admin", "read"
#: Key of the sessions when REST is open (no bearer token): the console is open too, so
#: there is nothing to keep secret; the CSRF token still needs the session's nonce.
OPEN_KEY = "enodo-console-open"


@dataclass(frozen=True)
class Session:
    """A checked session: who may do what, and the CSRF token its forms carry."""

    role: str
    csrf: str
    cookie: str

    @property
    def may_change(self) -> bool:
        """Whether this session may change anything (the full token logged in)."""
        return self.role == ADMIN


def _sign(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


class SessionKeys:
    """Issues and checks sessions against the REST tokens (read per call: files change)."""

    def __init__(
        self,
        bearer: Callable[[], str] | None,
        read_bearer: Callable[[], str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bearer = bearer
        self.read_bearer = read_bearer
        self.clock = clock

    @property
    def open(self) -> bool:
        """REST needs no token, so neither does the console."""
        return self.bearer is None

    def _key(self, role: str) -> str:
        if self.open:
            return OPEN_KEY if role == ADMIN else ""
        source = self.bearer if role == ADMIN else self.read_bearer
        return source() if source is not None else ""

    def login(self, token: str) -> Session | None:
        """A new session for the token given, or None when it is no token of ours."""
        for role in (ADMIN, READER):
            key = self._key(role)
            if key and (self.open or hmac.compare_digest(token.encode(), key.encode())):
                return self._issue(role, key)
        return None

    def _issue(self, role: str, key: str) -> Session:
        expires = int(self.clock()) + SESSION_TTL
        body = f"{role}.{expires}.{secrets.token_hex(16)}"
        return self.check(f"{body}.{_sign(key, 'session|' + body)}") or _never()

    def check(self, cookie: str | None) -> Session | None:
        """The session a cookie holds, or None (missing, forged, expired, token changed)."""
        parts = (cookie or "").split(".")
        if len(parts) != 4 or parts[0] not in (ADMIN, READER) or not parts[1].isdigit():
            return None
        role, expires, nonce, mac = parts
        key = self._key(role)
        body = f"{role}.{expires}.{nonce}"
        if not key or not hmac.compare_digest(mac, _sign(key, "session|" + body)):
            return None
        if int(expires) < self.clock():
            return None
        return Session(role, _sign(key, "csrf|" + nonce)[:32], cookie or "")


def csrf_ok(session: Session, given: str | None) -> bool:
    """Whether a change carries its session's CSRF token."""
    return bool(given) and hmac.compare_digest(session.csrf.encode(), (given or "").encode())


def _never() -> Session:
    raise RuntimeError("a session just issued does not check")  # a bug, not an input
