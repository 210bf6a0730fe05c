"""Fixtures for the REST tests: the app over a fake hub, driven by falcon's TestClient."""

from __future__ import annotations

import pytest
from falcon import testing

from api.app import create_app
from tests.api.fake_hub import FakeHub


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def client(hub: FakeHub) -> testing.TestClient:
    return testing.TestClient(create_app(hub))

