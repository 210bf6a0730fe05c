"""Settings of the whole test session, and its fuzz tally (also across pytest-xdist workers)."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from tests.fuzz.cases import CASES


def pytest_configure(config: pytest.Config) -> None:
    """Let the session's children be stopped by Ctrl-C's SIGINT however it was started.

    A shell starts a background job (`make test &`, `nohup ... &`) with SIGINT ignored, and
    children inherit an ignored signal: `enodo-client watch` and `make run`, which tests stop
    with SIGINT as a user's Ctrl-C would, then never saw it. A Python handler is not
    inherited, so with this one each child starts with SIGINT at its default.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker, hand this worker's fuzz tally to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["fuzz_cases"] = dict(CASES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker finished; add its fuzz tally to the session's."""
    CASES.update(getattr(node, "workeroutput", {}).get("fuzz_cases", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many fuzz cases each target was fed in this session (all workers)."""
    if not CASES:
        return
    terminalreporter.section("fuzz cases tried")
    for target, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{target}: {count}")
    terminalreporter.write_line(f"total: {sum(CASES.values())}")
