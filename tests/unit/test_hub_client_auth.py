"""HubClient and the hub token: sent in every API_REQUEST, a refusal is the API's fault (500)."""

from __future__ import annotations

import pytest

from api.hub_client import HubClient, HubError
from protocol.envelope import error
from protocol.errors import ErrorCode
from protocol.types import MessageType
from tests.api.stub_hub import StubHub, api_handler, series_actions

TIMEOUT = 2.0


@pytest.fixture
def stub():
    with StubHub(api_handler(series_actions({}))) as hub:
        yield hub


def test_every_request_carries_the_current_token(stub):
    tokens = iter(["first", "second"])
    client = HubClient(stub.endpoint, timeout=TIMEOUT, token=lambda: next(tokens))
    try:
        client.request("list_series")
        client.request("list_series", {})
    finally:
        client.close()
    sent = [inc.msg.body for inc in stub.of_type(MessageType.API_REQUEST)]
    assert [body["token"] for body in sent] == ["first", "second"]


def test_no_token_no_field(stub):
    client = HubClient(stub.endpoint, timeout=TIMEOUT, token=lambda: "")
    try:
        client.request("list_series")
    finally:
        client.close()
    assert "token" not in stub.of_type(MessageType.API_REQUEST)[0].msg.body


def test_refused_token_is_an_internal_error(stub, caplog):
    stub.handler = lambda hub, incoming: [
        error(incoming.msg.id, ErrorCode.UNAUTHORIZED, "token missing or wrong")
    ]
    client = HubClient(stub.endpoint, timeout=TIMEOUT, token="wrong-token-value")
    try:
        with pytest.raises(HubError) as info:
            client.request("list_series")
    finally:
        client.close()
    assert info.value.code == "internal" and "unauthorized" in info.value.message
    assert "api.token" in caplog.text and "wrong-token-value" not in caplog.text
