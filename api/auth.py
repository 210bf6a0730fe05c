"""Bearer-token authentication of the REST API (on when `api.bearer_token[_file]` is set).

Every request but those to OPEN_PATHS must carry `Authorization: Bearer <token>`;
otherwise it is answered 401 `unauthorized` in the one error shape, with a
`WWW-Authenticate: Bearer` challenge. Tokens are compared in constant time.

An optional read-only token (`api.read_token[_file]`) is for people who only look: it is
accepted for GET and HEAD, and any other method with it is answered 403 `forbidden`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

import falcon

log = logging.getLogger("enodo.api")

#: Paths served without a token: the API's description and the liveness and readiness
#: probes (load balancers and orchestrators hold no token; the probes reveal nothing).
OPEN_PATHS = frozenset({"/openapi.json", "/health", "/ready"})
#: Path prefixes this middleware leaves alone: the console (api/console/) checks its own
#: session cookie, since a browser cannot send a bearer header with a page load.
OPEN_PREFIX = "/ui"
#: Methods the read-only token may use: they change nothing.
READ_METHODS = frozenset({"GET", "HEAD"})
REALM = "enodo"


def _unauthorized(message: str, error: str | None = None) -> falcon.HTTPError:
    challenge = f'Bearer realm="{REALM}"'
    if error:
        challenge += f', error="{error}"'
    return falcon.HTTPError(
        401, title="unauthorized", description=message, code="unauthorized",
        headers={"WWW-Authenticate": challenge},
    )


def _in_console(path: str) -> bool:
    return path == OPEN_PREFIX or path.startswith(OPEN_PREFIX + "/")


class BearerAuth:
    """Falcon middleware: refuse requests without the right bearer token.

    `token` is called per request (a TokenSource re-reads its file when it changes);
    an empty answer means the token is not available yet, and every request is
    refused rather than let through.
    """

    def __init__(
        self,
        token: Callable[[], str],
        open_paths: frozenset[str] = OPEN_PATHS,
        read_token: Callable[[], str] | None = None,
    ) -> None:
        self.token = token
        self.open_paths = open_paths
        self.read_token = read_token

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Check the Authorization header (raises the 401 HTTPError)."""
        if req.path in self.open_paths or _in_console(req.path):
            return
        expected = self.token()
        if not expected:
            log.error("REST request refused: the bearer token is configured but not readable")
            raise falcon.HTTPError(
                503, title="unavailable", code="unavailable",
                description="the API's bearer token is not available yet",
                headers={"Retry-After": "1"},
            )
        header = req.get_header("Authorization") or ""
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise _unauthorized("a bearer token is required (Authorization: Bearer <token>)")
        given_bytes = given.strip().encode()
        if hmac.compare_digest(given_bytes, expected.encode()):
            return
        reader = self.read_token() if self.read_token is not None else ""
        if reader and hmac.compare_digest(given_bytes, reader.encode()):
            if req.method in READ_METHODS:
                return
            raise falcon.HTTPError(
                403, title="forbidden", code="forbidden",
                description=f"this token may only read (GET); {req.method} needs the full token",
            )
        raise _unauthorized("bearer token is wrong", "invalid_token")
