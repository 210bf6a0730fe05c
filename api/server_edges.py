"""What happens before Falcon sees a request: chunked bodies, and gunicorn's own errors.

gunicorn answers some requests itself (a request line over `limit_request_line`, a bad
header) with an HTML page; `install_json_errors()` makes those the API's one JSON error
shape. Falcon reads a body only up to Content-Length, so a chunked body (no length)
would read as empty; `ChunkedBody` reads it first and gives Falcon its length.
"""

from __future__ import annotations

import io
from typing import Any

import falcon

from api.errors import CODE_BY_STATUS, error_body
from protocol.envelope import dumps

#: gunicorn's longest request line (its own maximum short of unlimited).
REQUEST_LINE_LIMIT = 8190
#: Room on the request line besides the encoded name: method, `/series/`, the longest
#: sub-path with a query (`/anomalies?limit=1000`) and ` HTTP/1.1`, with margin.
REQUEST_LINE_OVERHEAD = 100
#: The longest percent-encoded name every route can still serve.
MAX_ENCODED_NAME = REQUEST_LINE_LIMIT - REQUEST_LINE_OVERHEAD

class ChunkedBody:
    """Falcon middleware: read a chunked body (at most max_size + 1 bytes) and set its length.

    Installed after BodyDeadline, so the read is bounded in time like any other body's.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Turn a terminated chunked body into a sized one before anything reads it."""
        env = req.env
        chunked = "chunked" in (req.get_header("Transfer-Encoding") or "").lower()
        if chunked and not env.get("CONTENT_LENGTH") and env.get("wsgi.input_terminated"):
            # One byte over the limit is enough for read_object to answer 413.
            body = env["wsgi.input"].read(self.max_size + 1)
            env["wsgi.input"] = req.stream = io.BytesIO(body)
            env["CONTENT_LENGTH"] = str(len(body))


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
