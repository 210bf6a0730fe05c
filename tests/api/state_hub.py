"""The hub behind the REST tests: the hub's own actions on an in-memory HubState (no sockets).

Every answer is also held to the action's published result shape (protocol/actions.py,
the shapes the OpenAPI document is built from): a test that passes here has seen data the
contract describes, so the hub, the contract and the API cannot drift apart unnoticed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import msgspec

from actors.hub.actions import run_action
from actors.hub.state import HubState
from api.hub_client import HubError, HubUnavailable
from protocol import actions as shapes
from protocol.errors import ProtocolError


class StateHub:
    """request(action, params) answered by run_action on a HubState, errors as HubError."""

    def __init__(self, state: HubState) -> None:
        self.state = state
        self.calls: list[tuple[str, dict[str, Any] | None]] = []
        self.unavailable = False
        #: action -> replacement answer, for the cases no real state produces (a null data).
        self.overrides: dict[str, Callable[[dict[str, Any]], Any]] = {}

    def request(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Run the action as the hub would; raise HubError with the hub's code."""
        self.calls.append((action, copy.deepcopy(params)))
        if self.unavailable:
            raise HubUnavailable("hub at tcp://127.0.0.1:5563 did not answer within 5 s")
        if action in self.overrides:
            return self.overrides[action](params or {})
        try:
            data = run_action(self.state, action, params or {})
        except ProtocolError as exc:
            raise HubError(exc.code.value, exc.message) from None
        # Through JSON, as over the wire; then held to the published shape of the result.
        data = msgspec.json.decode(msgspec.json.encode(data))
        msgspec.convert(data, shapes.ACTIONS[action][1])
        return data

    def actions(self) -> list[str]:
        """The actions asked so far, in order."""
        return [action for action, _ in self.calls]
