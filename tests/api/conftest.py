"""Fixtures for the REST tests: the app over the hub's real actions, driven by TestClient."""

from __future__ import annotations

import pytest
from falcon import testing

from api.app import create_app
from tests.api.state_hub import StateHub
from tests.support.hub_state import make_state


@pytest.fixture
def state(tmp_path):
    return make_state(tmp_path, alerts=True)


@pytest.fixture
def hub(state) -> StateHub:
    return StateHub(state)  # the state's own scheduler: queue_job answers as in the hub


@pytest.fixture
def client(hub: StateHub) -> testing.TestClient:
    return testing.TestClient(create_app(hub))
