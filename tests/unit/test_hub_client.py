"""HubClient against a real ROUTER stub on a loopback port: replies, errors, lazy pirate."""

from __future__ import annotations

import threading
import time

import pytest

from api.hub_client import HubClient, HubError, HubUnavailable
from protocol.envelope import error, ok
from protocol.errors import ErrorCode
from protocol.types import MessageType
from tests.api.stub_hub import StubHub, api_handler, series_actions, series_detail

TIMEOUT = 0.4
SLACK = 1.0  # scheduling slack on a loaded CI machine


@pytest.fixture
def series():
    return {"cpu": series_detail("cpu")}


@pytest.fixture
def stub(series):
    with StubHub(api_handler(series_actions(series))) as hub:
        yield hub


@pytest.fixture
def client(stub):
    hub_client = HubClient(stub.endpoint, timeout=TIMEOUT)
    yield hub_client
    hub_client.close()


def test_reply_data_is_returned(client, stub):
    assert client.request("get_series", {"name": "cpu"})["name"] == "cpu"
    sent = stub.of_type(MessageType.API_REQUEST)[0].msg
    assert sent.body == {"action": "get_series", "params": {"name": "cpu"}}


def test_request_without_params_sends_none(client, stub):
    assert client.request("list_series")["series"] == [series_detail("cpu")]
    assert "params" not in stub.of_type(MessageType.API_REQUEST)[0].msg.body


def test_no_socket_before_first_request(stub):
    hub_client = HubClient(stub.endpoint, timeout=TIMEOUT)
    assert hub_client._channel is None and hub_client._ctx is None
    hub_client.close()


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("get_series", {"name": "nope"}, "not_found"),
        ("add_series", {"name": "cpu"}, "conflict"),
        ("no_such_action", None, "invalid"),
    ],
)
def test_error_reply_raises_hub_error(client, action, params, code):
    with pytest.raises(HubError) as info:
        client.request(action, params)
    assert info.value.code == code
    assert info.value.message


def test_link_errors_become_internal(stub):
    stub.handler = lambda hub, incoming: [
        error(incoming.msg.id, ErrorCode.BAD_SIGNATURE, "signature missing or wrong")
    ]
    hub_client = HubClient(stub.endpoint, timeout=TIMEOUT)
    try:
        with pytest.raises(HubError) as info:
            hub_client.request("list_series")
        assert info.value.code == "internal"
        assert "bad_signature" in info.value.message
    finally:
        hub_client.close()


def test_signed_messages_round_trip(series):
    with StubHub(api_handler(series_actions(series)), key=b"k3y") as stub:
        hub_client = HubClient(stub.endpoint, timeout=TIMEOUT, signing_key=b"k3y")
        try:
            assert hub_client.request("get_series", {"name": "cpu"})["name"] == "cpu"
        finally:
            hub_client.close()


def test_unsigned_client_to_signing_hub_is_internal_error(series):
    with StubHub(api_handler(series_actions(series)), key=b"k3y") as stub:
        hub_client = HubClient(stub.endpoint, timeout=TIMEOUT)
        try:
            with pytest.raises(HubError) as info:
                hub_client.request("list_series")
            assert info.value.code == "internal"
            assert "bad_signature" in info.value.message
        finally:
            hub_client.close()


def test_oversized_request_is_refused_locally(stub):
    hub_client = HubClient(stub.endpoint, timeout=TIMEOUT, max_size=1024)
    try:
        with pytest.raises(HubError) as info:
            hub_client.request("add_series", {"name": "x" * 2000})
        assert info.value.code == "too_large"
    finally:
        hub_client.close()
    assert stub.of_type(MessageType.API_REQUEST) == []


def test_silent_hub_raises_unavailable_within_timeout(client, stub):
    stub.answering.clear()
    started = time.monotonic()
    with pytest.raises(HubUnavailable) as info:
        client.request("get_series", {"name": "cpu"})
    elapsed = time.monotonic() - started
    assert TIMEOUT - 0.01 <= elapsed < TIMEOUT + SLACK
    assert info.value.code == "unavailable"
    assert "did not answer within" in info.value.message


def test_recovers_when_the_hub_answers_again(client, stub):
    stub.answering.clear()
    with pytest.raises(HubUnavailable):
        client.request("get_series", {"name": "cpu"})
    stub.answering.set()
    assert client.request("get_series", {"name": "cpu"})["name"] == "cpu"


def test_late_reply_is_not_taken_for_the_next_one(client, stub):
    stub.answering.clear()
    with pytest.raises(HubUnavailable):
        client.request("get_series", {"name": "cpu"})
    late = stub.of_type(MessageType.API_REQUEST)[-1]
    stub.push(late.route, ok(late.msg, {"stale": True}))
    stub.answering.set()
    assert client.request("get_series", {"name": "cpu"}) == series_detail("cpu")


def test_recovers_when_the_hub_restarts(series):
    stub = StubHub(api_handler(series_actions(series))).start()
    hub_client = HubClient(stub.endpoint, timeout=TIMEOUT)
    try:
        assert hub_client.request("get_series", {"name": "cpu"})["name"] == "cpu"
        stub.stop()
        with pytest.raises(HubUnavailable):
            hub_client.request("get_series", {"name": "cpu"})
        with StubHub(api_handler(series_actions(series)), address=stub.endpoint):
            assert hub_client.request("get_series", {"name": "cpu"})["name"] == "cpu"
    finally:
        hub_client.close()


def test_unreachable_hub_raises_unavailable_within_timeout():
    with StubHub(api_handler({})) as stub:
        endpoint = stub.endpoint  # a port that was free a moment ago and is closed now
    hub_client = HubClient(endpoint, timeout=TIMEOUT)
    started = time.monotonic()
    try:
        with pytest.raises(HubUnavailable):
            hub_client.request("list_series")
    finally:
        hub_client.close()
    assert time.monotonic() - started < TIMEOUT + SLACK


def test_concurrent_requests_each_get_their_own_reply(client, series):
    for i in range(8):
        series[f"s{i}"] = series_detail(f"s{i}")
    results: dict[int, str] = {}

    def ask(i: int) -> None:
        results[i] = client.request("get_series", {"name": f"s{i}"})["name"]

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == {i: f"s{i}" for i in range(8)}
