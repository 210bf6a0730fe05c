"""Settings of the whole test session."""

from __future__ import annotations

import signal

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Let the session's children be stopped by Ctrl-C's SIGINT however it was started.

    A shell starts a background job (`make test &`, `nohup ... &`) with SIGINT ignored, and
    children inherit an ignored signal: `enodo-client watch` and `make run`, which tests stop
    with SIGINT as a user's Ctrl-C would, then never saw it. A Python handler is not
    inherited, so with this one each child starts with SIGINT at its default.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
