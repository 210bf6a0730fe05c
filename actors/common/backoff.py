"""One backoff for every retry: delays that double from a first value up to a cap."""

from __future__ import annotations


def doubling(attempt: int, first: float, cap: float) -> float:
    """The delay before retry number `attempt` (1: the first retry waits `first`)."""
    return min(cap, first * 2 ** max(0, attempt - 1))


class Backoff:
    """Successive delays first, 2 x first, ... up to cap; reset() after a success."""

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap = first, cap
        self.failures = 0

    def next(self) -> float:
        """The delay to wait now; the one after it doubles."""
        self.failures += 1
        return doubling(self.failures, self.first, self.cap)

    def reset(self) -> None:
        """The next delay is `first` again."""
        self.failures = 0
