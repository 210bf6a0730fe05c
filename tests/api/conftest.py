"""Fixtures for the REST tests: the app over the hub's real actions, driven by TestClient."""

from __future__ import annotations

import pytest
from falcon import testing

from actors.hub.scheduler import Scheduler
from api.app import create_app
from tests.api.state_hub import StateHub
from tests.support.hub_state import FakeJobs, make_state


@pytest.fixture
def state(tmp_path):
    return make_state(tmp_path, alerts=True)


@pytest.fixture
def hub(state) -> StateHub:
    # The real scheduler, its jobs recorded instead of pushed: queue_job answers as in the hub.
    Scheduler(state, FakeJobs())
    return StateHub(state)


@pytest.fixture
def client(hub: StateHub) -> testing.TestClient:
    return testing.TestClient(create_app(hub))
