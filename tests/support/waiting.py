"""Waiting on conditions with a deadline, and free loopback ports."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll condition until it returns a truthy value; fail after timeout seconds.

    The failure says what the last try gave: its exception, or the falsy value it returned
    (an error from an early try is not blamed for a condition that later ran and was false).
    """
    deadline = time.monotonic() + timeout
    last: str = "never tried"
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last, value = f"error: {exc}", None
        else:
            last = f"returned {value!r:.200}"
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last try {last})")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_handed_out: set[int] = set()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now and below the ephemeral range.

    A port from bind(0) comes from the range the kernel also gives outgoing connections as
    their local port: one could take it between this call and the server's bind ("Address
    already in use", seen once in a full run). A port below that range is taken only by a
    bind, and each is handed out once per test process.
    """
    high = _ephemeral_low()
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(max(1024, high - 12000), high)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port found below {high}")
