"""A request body must arrive within `api.body_timeout` seconds, or the answer is 408.

gunicorn's gevent worker bounds the time a request's line and headers may take
(`keepalive`) but not its body: a client that declares a body and sends it a byte at a
time would hold its connection for as long as it likes. Under gevent every read of the
body runs under a gevent.Timeout for what is left of the deadline. Without gevent (sync or
gthread workers) nothing can interrupt a blocking read, and the middleware does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import falcon

from api.errors import api_error

#: Seconds a request body may take to arrive (bodies are small JSON objects).
DEFAULT_BODY_TIMEOUT = 10.0


def gevent_patched() -> bool:
    """True when gevent has patched this process (gunicorn's gevent worker)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("socket"))


class DeadlineInput:
    """A wsgi.input whose reads must all end by a deadline; 408 `timeout` after it."""

    def __init__(self, stream: Any, seconds: float) -> None:
        self._stream = stream
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds

    def read(self, size: int = -1) -> bytes:
        """Read up to size bytes (all with -1) before the deadline."""
        return self._bounded(self._stream.read, size)

    def readline(self, size: int = -1) -> bytes:
        """Read a line before the deadline."""
        return self._bounded(self._stream.readline, size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Read lines before the deadline."""
        return self._bounded(self._stream.readlines, hint)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def _bounded(self, read: Callable[[int], Any], arg: int) -> Any:
        import gevent

        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._too_slow()
        timer = gevent.Timeout(remaining)
        timer.start()
        try:
            return read(arg)
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            raise self._too_slow() from None
        finally:
            timer.close()

    def _too_slow(self) -> falcon.HTTPError:
        return api_error("timeout", f"request body not received within {self._seconds:g} s")


class BodyDeadline:
    """Falcon middleware: give every request body `seconds` to arrive (under gevent)."""

    def __init__(self, seconds: float = DEFAULT_BODY_TIMEOUT, active: bool | None = None) -> None:
        self.seconds = seconds
        self.active = gevent_patched() if active is None else active

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Wrap the body stream before anything reads it."""
        if not self.active or not (req.content_length or req.get_header("Transfer-Encoding")):
            return
        # falcon's bounded_stream wraps env["wsgi.input"]; req.stream is the same object.
        wrapped = DeadlineInput(req.env["wsgi.input"], self.seconds)
        req.env["wsgi.input"] = wrapped
        req.stream = wrapped
