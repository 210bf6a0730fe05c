"""A real HubState behind the hub client's interface, for the console's TestClient tests.

The actions run as the hub runs them (same checks, same messages); only ZMQ is missing.
"""

from __future__ import annotations

from typing import Any

from actors.hub.actions import run_action
from actors.hub.state import HubState
from api.hub_client import HubError
from protocol.errors import ProtocolError


class StateHub:
    """request(action, params) answered by run_action on a HubState."""

    def __init__(self, state: HubState) -> None:
        self.state = state
        self.actions: list[str] = []

    def request(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Run the action; HubError with the hub's code and message when refused."""
        self.actions.append(action)
        try:
            data = run_action(self.state, action, params or {})
        except ProtocolError as exc:
            raise HubError(exc.code.value, exc.message) from None
        self.state.store.commit()
        return data
