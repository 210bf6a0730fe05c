"""Logging set-up shared by the actors, with a limit on repeated warnings."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

#: Lines of one kind let through per window; the rest are counted, not written.
REPEAT_BURST = 10
#: Seconds of a window; at its end a line says how many of the kind were suppressed.
REPEAT_WINDOW = 60.0
#: Kinds tracked at once. Kinds are code locations (the format string), so a handful in
#: practice; the bound only matters for a message built without a template.
MAX_KINDS = 512
#: Seconds between sweeps for windows that ended with lines suppressed.
SWEEP_INTERVAL = 1.0

log = logging.getLogger("enodo.logs")


@dataclass(slots=True)
class _Window:
    start: float
    template: str
    passed: int = 1
    suppressed: int = 0


class RepeatLimit(logging.Filter):
    """Let `burst` warnings (or worse) of one kind through per `window` seconds.

    A flood of malformed input otherwise writes a warning per message and rotates the
    log's history away, traces of an attack included. The kind of a record is its
    `rate_key` extra when given, else its logger and format string, so a message with
    different arguments (another peer, another error) is the same kind. What is held back
    is counted: the next line of the kind ends with "(N similar suppressed in the last
    60 s)", and a kind that falls silent gets a line of its own at the next sweep.
    """

    def __init__(
        self,
        burst: int = REPEAT_BURST,
        window: float = REPEAT_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = MAX_KINDS,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self.clock = clock
        self.max_kinds = max_kinds
        self._kinds: OrderedDict[Hashable, _Window] = OrderedDict()
        self._lock = threading.Lock()  # records come from the loop and from helper threads
        self._next_sweep = 0.0
        self.suppressed_total = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for a record held back; add the count of held-back ones to the next."""
        if record.levelno < logging.WARNING or getattr(record, "repeat_summary", False):
            self._maybe_sweep()
            return True
        key = getattr(record, "rate_key", None) or (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            window = self._kinds.get(key)
            if window is not None and now < window.start + self.window:
                if window.passed < self.burst:
                    window.passed += 1
                    return True
                window.suppressed += 1
                self.suppressed_total += 1
                return False
            self._kinds[key] = _Window(now, str(record.msg)[:200])
            self._kinds.move_to_end(key)
            evicted = self._kinds.popitem(last=False)[1] if len(self._kinds) > self.max_kinds \
                else None
        if window is not None and window.suppressed:
            record.msg = (f"{record.getMessage()} ({window.suppressed} similar suppressed in "
                          f"the last {now - window.start:.0f} s)")
            record.args = None
        if evicted is not None and evicted.suppressed:
            self._summary(evicted, now)
        self._maybe_sweep(now)
        return True

    def _maybe_sweep(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            self.sweep(now)

    def sweep(self, now: float | None = None) -> None:
        """Write the count of every window that ended with lines held back; forget it."""
        now = self.clock() if now is None else now
        with self._lock:
            ended = [(key, w) for key, w in self._kinds.items() if now >= w.start + self.window]
            for key, _ in ended:
                del self._kinds[key]
        for _, window in ended:
            if window.suppressed:
                self._summary(window, now)

    def _summary(self, window: _Window, now: float) -> None:
        log.warning("%d similar to %r suppressed in the last %.0f s", window.suppressed,
                    window.template, now - window.start, extra={"repeat_summary": True})


def setup_logging(
    level: str, name: str, burst: int = REPEAT_BURST, window: float = REPEAT_WINDOW
) -> logging.Logger:
    """Log to stderr with timestamps and the actor's name; return the actor's logger.

    Every handler gets a RepeatLimit, so each warning path of the actor is limited
    without its own code; `repeat_limit(...)` finds the filter (the hub sweeps it).
    """
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format=f"%(asctime)s {name}[%(process)d] %(levelname)s %(name)s: %(message)s",
    )
    limit = RepeatLimit(burst, window)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RepeatLimit) for f in handler.filters):
            handler.addFilter(limit)
    return logging.getLogger(name)


def repeat_limit() -> RepeatLimit | None:
    """The RepeatLimit of the root logger's handlers, if setup_logging installed one."""
    for handler in logging.getLogger().handlers:
        for flt in handler.filters:
            if isinstance(flt, RepeatLimit):
                return flt
    return None
