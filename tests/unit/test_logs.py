"""RepeatLimit: a burst of warnings of one kind per window, the rest counted."""

from __future__ import annotations

import logging

import pytest

from actors.common.logs import RepeatLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logged():
    """(logger, lines, clock): a logger whose handler has a RepeatLimit(3, 60 s)."""
    lines: list[str] = []
    clock = Clock()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep()
    handler.addFilter(RepeatLimit(burst=3, window=60.0, clock=clock))
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("test.repeat")
    logger.setLevel(logging.DEBUG)
    yield logger, lines, clock
    root.removeHandler(handler)


def test_a_flood_of_one_kind_writes_a_burst_then_the_count(logged):
    logger, lines, clock = logged
    for n in range(1000):
        logger.warning("bad message from %r: %s", f"peer-{n}", "malformed")
    assert lines == [f"bad message from 'peer-{n}': malformed" for n in range(3)]
    clock.now += 61
    logger.warning("bad message from %r: %s", "peer-x", "malformed")
    assert lines[3] == ("bad message from 'peer-x': malformed"
                        " (997 similar suppressed in the last 61 s)")


def test_other_kinds_and_lower_levels_are_not_held_back(logged):
    logger, lines, clock = logged
    for _ in range(5):
        logger.warning("kind a %d", 1)
        logger.error("kind b %d", 2)
        logger.info("info %d", 3)
    assert lines.count("kind a 1") == 3 and lines.count("kind b 2") == 3
    assert lines.count("info 3") == 5


def test_rate_key_separates_kinds_of_one_template(logged):
    logger, lines, clock = logged
    for kind in ("job_failed", "client_offline"):
        for _ in range(5):
            logger.warning("%s: %s", kind, "text", extra={"rate_key": ("event", kind)})
    assert lines.count("job_failed: text") == 3 and lines.count("client_offline: text") == 3


def test_a_kind_that_falls_silent_gets_its_count_at_the_sweep(logged):
    logger, lines, clock = logged
    for _ in range(50):
        logger.warning("tee: closing connection from %s", "x")
    clock.now += 60
    logger.info("anything")  # any record sweeps (at most once a second)
    assert lines[-2:] == [
        "47 similar to 'tee: closing connection from %s' suppressed in the last 60 s", "anything"
    ]
    clock.now += 200
    logger.info("again")
    assert sum("suppressed" in line for line in lines) == 1  # counted once, then forgotten


def test_the_table_of_kinds_is_bounded():
    limit = RepeatLimit(burst=1, window=60.0, clock=Clock(), max_kinds=8)
    for n in range(10_000):
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, f"unique {n}", None, None)
        limit.filter(record)
    assert len(limit._kinds) == 8
