"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from tests.support.hub_state import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
