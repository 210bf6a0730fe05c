"""Decoding refuses JSON the wire must not carry on; encoding never raises anything else."""

from __future__ import annotations

import pytest
import ujson
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.envelope import Codec, Message, _suspect, _unsendable
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


# The cheap check that picks frames to walk must flag every frame whose decoded value the
# walk refuses (it was a regex once, and cost 9x the JSON parse of a counts message).
def _json_string(text: str, escape: bool) -> bytes:
    if escape:
        return b'"' + "".join(f"\\u{ord(c):04x}" for c in text).encode() + b'"'
    raw = text.encode("utf-8", "surrogatepass").replace(b'"', b"").replace(b"\\", b"")
    return b'"' + raw + b'"'


_NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(lambda i: str(i).encode()),
    st.builds(lambda m, e, sign, x: f"{m}{e}{sign}{x}".encode(), st.integers(-9, 99),
              st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), st.integers(0, 999)),
    st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1.5", b"0.12345678901234568"]),
)
_STRINGS = st.builds(_json_string, st.text(st.characters(min_codepoint=0xD7F0,
                                                         max_codepoint=0xE00F), max_size=3)
                     | st.text(max_size=5), st.booleans())
_VALUES = st.lists(_NUMBERS | _STRINGS, max_size=6).map(lambda xs: b"[" + b",".join(xs) + b"]")


@given(_VALUES)
@settings(max_examples=500, deadline=None)
def test_the_fast_suspect_check_flags_every_frame_the_walk_refuses(raw):
    try:
        value = ujson.loads(raw)
    except (ValueError, OverflowError, UnicodeDecodeError):
        return
    if _unsendable(value):
        assert _suspect(raw)


_COUNTS_HEADER = HEADER.replace(b"HEARTBEAT", b"LISTENER_ADD_SERIE_COUNT")


@given(st.lists(st.tuples(_STRINGS, _NUMBERS | _STRINGS), max_size=5))
@settings(max_examples=500, deadline=None)
def test_a_closed_body_skips_the_number_scan_yet_never_lets_an_unsendable_value_in(pairs):
    # LISTENER_ADD_SERIE_COUNT is closed: its check sees every number, so the decoder only
    # looks for surrogates in the raw frame. Whatever it accepts must still be sendable.
    raw = b'{"counts":{' + b",".join(k + b":" + v for k, v in pairs) + b"}}"
    try:
        msg = Codec("hub").decode([PROTOCOL_TAG, b"", _COUNTS_HEADER, raw])
    except ProtocolError as exc:
        assert exc.code in (ErrorCode.MALFORMED, ErrorCode.INVALID)
        if exc.code is ErrorCode.INVALID:  # not JSON-safe is MALFORMED, as for open bodies
            try:
                value = ujson.loads(raw)
            except (ValueError, OverflowError):
                return
            assert _unsendable(value) is None
        return
    assert _unsendable(msg.body) is None
