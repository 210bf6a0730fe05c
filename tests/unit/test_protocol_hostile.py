"""Decoding refuses JSON the wire must not carry on; encoding never raises anything else."""

from __future__ import annotations

import pytest

from protocol.envelope import Codec, Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.types import PROTOCOL_TAG, MessageType

HEADER = b'{"type":"HEARTBEAT","id":"m1","reply_to":null,"sender":"peer"}'


@pytest.mark.parametrize("body", [
    b'{"busy":"\\ud800"}', b'{"busy":"\xed\xa0\x80"}', b'{"job_id":"\\udfff"}',
    b'{"busy":NaN}', b'{"busy":Infinity}', b'{"busy":-Infinity}', b'{"busy":1e400}',
    b'{"busy":[1, {"x": 18446744073709551616}]}', b'{"busy":-9223372036854775809}',
])
def test_unsendable_json_is_malformed_and_answers_the_message_id(body):
    with pytest.raises(ProtocolError) as caught:
        Codec("hub").decode([PROTOCOL_TAG, b"", HEADER, body])
    assert caught.value.code is ErrorCode.MALFORMED
    assert caught.value.reply_to == "m1"


@pytest.mark.parametrize("header", [
    b'{"type":"HEARTBEAT","id":"\\ud800","reply_to":null,"sender":"p"}',
    b'{"type":"HEARTBEAT","id":"m","reply_to":"\\udc00","sender":"p"}',
    b'{"type":"HEARTBEAT","id":"m","reply_to":null,"sender":"\xed\xb0\x80"}',
])
def test_a_header_that_could_not_be_echoed_is_malformed_without_reply_to(header):
    with pytest.raises(ProtocolError) as caught:
        Codec("hub").decode([PROTOCOL_TAG, b"", header, b"{}"])
    assert caught.value.code is ErrorCode.MALFORMED
    assert caught.value.reply_to is None


@pytest.mark.parametrize("body", [
    b'{"job_id":"\\ud83d\\ude00"}', b'{"busy":false,"job_id":"1e400"}',
    b'{"job_id":"NaN Infinity"}', b'{"busy":true,"job_id":"9223372036854775807"}',
])
def test_lookalikes_decode(body):
    msg = Codec("hub").decode([PROTOCOL_TAG, b"", HEADER, body])
    assert msg.type is MessageType.HEARTBEAT


def test_edge_numbers_decode():
    frames = [PROTOCOL_TAG, b"", HEADER.replace(b"HEARTBEAT", b"RESPONSE_OK"),
              b'{"data":[9223372036854775807,-9223372036854775808,1e308,1e-400]}']
    assert Codec("hub").decode(frames).body["data"] == [2**63 - 1, -(2**63), 1e308, 0.0]


@pytest.mark.parametrize("msg", [
    Message(MessageType.HEARTBEAT, {}, reply_to="\ud800"),
    Message(MessageType.HEARTBEAT, {}, id="\udfff"),
    Message(MessageType.RESPONSE_OK, {"data": "\ud800"}),
    Message(MessageType.RESPONSE_OK, {"data": float("inf")}),
])
def test_encoding_refuses_unsendable_values_with_a_protocol_error(msg):
    with pytest.raises(ProtocolError) as caught:
        Codec("hub").encode(msg)
    assert caught.value.code is ErrorCode.INVALID


def test_encoding_refuses_integers_beyond_64_bits():
    msg = Message(MessageType.API_REQUEST, {"action": "add_series",
                                            "params": {"model_parameters": {"x": 2**64}}})
    with pytest.raises(ProtocolError) as caught:
        Codec("api").encode(msg)
    assert caught.value.code is ErrorCode.INVALID and "64-bit" in caught.value.message


@pytest.mark.parametrize("interval,liveness", [(0, 3), (-1, 3), (1e300, 3), (1, 0), (1, -2),
                                               (1, 10**9)])
def test_a_handshake_ok_that_would_spin_or_stall_a_peer_is_invalid(interval, liveness):
    codec = Codec("hub")
    msg = Message(MessageType.HANDSHAKE_OK, {"hub_id": "h", "heartbeat_interval": interval,
                                             "liveness": liveness})
    with pytest.raises(ProtocolError) as caught:
        codec.encode(msg)
    assert caught.value.code is ErrorCode.INVALID
