"""What the tee may cost the listener: per package, in total, in connections and in time.

SiriDB's tee has no authentication and no flow control of its own, so whoever reaches the
port could make the listener buffer without bound (4 connections declaring 256 MB packages
took it from 36 to 525 MB). These limits bound that; `docs/design.md` ("Listener") says why
each default is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.listener.tee import DEFAULT_MAX_PACKAGE_SIZE

MIB = 1024 * 1024

# A package larger than DEFAULT_MAX_PACKAGE_SIZE (64 MiB, tee.py) closes its connection.
#: Bytes of unfinished packages held across all connections; past it, reading pauses.
DEFAULT_MAX_BUFFERED = 128 * MIB
#: Open tee connections; SiriDB opens one per server of a cluster. Beyond it: refused.
DEFAULT_MAX_CONNECTIONS = 64
#: Seconds a package may take from its first byte to its last (19 MB at 1 MB/s: 19 s).
DEFAULT_PACKAGE_TIMEOUT = 60.0
#: Seconds without a byte after which a connection is closed (0: never). SiriDB reopens
#: it at its next insert, whose copy is lost: the hub's reconciliation finds those points.
DEFAULT_IDLE_TIMEOUT = 900.0


@dataclass(frozen=True)
class TeeLimits:
    """The listener's bounds on tee connections (see the module's constants for defaults)."""

    max_package_size: int = DEFAULT_MAX_PACKAGE_SIZE
    max_buffered: int = DEFAULT_MAX_BUFFERED
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    package_timeout: float = DEFAULT_PACKAGE_TIMEOUT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem is not None:
            raise ValueError(f"{problem[0]}: {problem[1]}")

    def problem(self) -> tuple[str, str] | None:
        """Return (key, what is wrong) for the first inconsistent limit, or None."""
        if self.max_package_size < 1:
            return "max_package_size", "must be >= 1"
        if self.max_buffered < self.max_package_size:
            # Otherwise a package of the largest allowed size could never be read whole.
            return "max_buffered", f"must be >= max_package_size ({self.max_package_size})"
        if self.max_connections < 1:
            return "max_connections", "must be >= 1"
        if self.package_timeout <= 0:
            return "package_timeout", "must be > 0"
        if self.idle_timeout < 0:
            return "idle_timeout", "must be >= 0 (0: never)"
        return None

    @property
    def sweep_interval(self) -> float:
        """Seconds between two checks of the timeouts: a quarter of the shortest, 1 s at most."""
        shortest = min(t for t in (self.package_timeout, self.idle_timeout) if t > 0)
        return max(0.01, min(1.0, shortest / 4))
