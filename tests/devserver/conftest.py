"""Shared fixtures of the development server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.siridb_dev.testing import DevServer

from .replay import Replayer, replay


@pytest.fixture(scope='session')
def replayed() -> Iterator[Replayer]:
    """One replay of every recorded case against a fresh server without a database."""
    with DevServer(dbname=None) as server:
        yield replay(server.host, server.port)
