"""What happens before Falcon sees a request: chunked bodies, and gunicorn's own errors.

gunicorn answers some requests itself (a request line over `limit_request_line`, a bad
header) with an HTML page; `install_json_errors()` makes those the API's one JSON error
shape. Falcon reads a body only up to Content-Length, so a chunked body (no length)
would read as empty; `Dechunk` reads it first and gives Falcon its length.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from api.errors import CODE_BY_STATUS, error_body
from protocol.envelope import dumps

#: gunicorn's longest request line (its own maximum short of unlimited).
REQUEST_LINE_LIMIT = 8190
#: Room on the request line besides the encoded name: method, `/series/`, the longest
#: sub-path with a query (`/anomalies?limit=1000`) and ` HTTP/1.1`, with margin.
REQUEST_LINE_OVERHEAD = 100
#: The longest percent-encoded name every route can still serve.
MAX_ENCODED_NAME = REQUEST_LINE_LIMIT - REQUEST_LINE_OVERHEAD

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Dechunk:
    """WSGI wrapper: read a chunked body (at most max_size + 1 bytes) and set its length."""

    def __init__(self, app: WSGIApp, max_size: int) -> None:
        self.app = app
        self.max_size = max_size

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Pass the request on, a terminated chunked body turned into a sized one."""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            # One byte over the limit is enough for the API to answer 413.
            body = environ["wsgi.input"].read(self.max_size + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def json_error_response(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 error response in the API's error shape."""
    code = CODE_BY_STATUS.get(status) or ("invalid" if 400 <= status < 500 else "internal")
    body = dumps(error_body(code, message or reason))
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def install_json_errors() -> None:
    """Make gunicorn write its own errors (bad request line, bad headers) as JSON."""
    from gunicorn import util

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        util.write_nonblock(sock, json_error_response(int(status_int), reason, mesg))

    util.write_error = write_error
