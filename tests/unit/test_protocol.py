"""The envelope: every type round-trips; each kind of bad input gets its own error code."""

from __future__ import annotations

import pytest
import ujson

from protocol.bodies import BODIES
from protocol.envelope import Codec, Message, dumps
from protocol.errors import ErrorCode, ProtocolError
from protocol.types import PROTOCOL_TAG, MessageType, parse_type

JOB = {
    "job_id": "j1", "series": "cpu/load 'x'", "model": "arima", "model_parameters": {},
    "state": None, "settings": {"horizon": 5}, "attempt": 0,
}
SAMPLES: dict[MessageType, dict] = {
    MessageType.HANDSHAKE: {
        "client_id": "w1", "client_type": "worker", "version": "0.1", "protocol": 1,
        "token": "t", "capacity": 1, "models": ["arima"],
    },
    MessageType.HANDSHAKE_OK: {"hub_id": "h", "heartbeat_interval": 1.0, "liveness": 3},
    MessageType.HANDSHAKE_FAIL: {"code": "unauthorized", "message": "no"},
    MessageType.UNKNOWN_CLIENT: {"message": "handshake first"},
    MessageType.HEARTBEAT: {"busy": True, "job_id": None},
    MessageType.SHUTDOWN: {"reason": "bye"},
    MessageType.ADD_SERIE: {"name": "ü/x", "model": 1, "model_parameters": {}, "realtime": True},
    MessageType.REMOVE_SERIE: {"name": "x"},
    MessageType.UPDATE_SERIES: {"series": [{"name": "a", "realtime": False}]},
    MessageType.LISTENER_ADD_SERIE_COUNT: {"counts": {"a": 3, "b": 0}},
    MessageType.RESPONSE_OK: {"data": [1, "two", None]},
    MessageType.ERROR: {"code": "invalid", "message": "bad"},
    MessageType.API_REQUEST: {"action": "list_series", "params": {}},
    MessageType.SUBSCRIBE: {"series": ["a"]},
    MessageType.UNSUBSCRIBE: {},
    MessageType.SERIES_UPDATE: {"name": "a", "event": "forecast", "data": {"n": 1}},
    MessageType.TRAIN_MODEL: JOB,
    MessageType.FIT_MODEL: JOB,
    MessageType.FORECAST_SERIE: JOB,
    MessageType.JOB_ACCEPTED: {"job_id": "j1", "worker_id": "w1"},
    MessageType.JOB_REFUSED: {"job_id": "j1", "worker_id": "w1", "reason": "busy"},
    MessageType.JOB_RESULT: {"job_id": "j1", "worker_id": "w1", "result": {"ok": 1}},
    MessageType.JOB_FAILED: {"job_id": "j1", "worker_id": "w1", "error": "x", "retry": True},
    MessageType.UPDATE_PATTERNS: {"patterns": ["/cpu\\..*/", "/mem.*/i"]},
    MessageType.SERIES_SEEN: {"names": ["cpu.load", "ü/x"]},
}


def test_every_type_has_a_sample_and_a_schema():
    assert set(SAMPLES) == set(MessageType) == set(BODIES)


@pytest.mark.parametrize("key", [None, b"secret"])
@pytest.mark.parametrize("msg_type", list(MessageType))
def test_every_type_round_trips(msg_type, key):
    codec = Codec("me", key)
    msg = Message(msg_type, SAMPLES[msg_type], reply_to="r1")
    back = Codec("other", key).decode(codec.encode(msg))
    assert (back.type, back.body, back.id, back.reply_to, back.sender) == (
        msg_type, SAMPLES[msg_type], msg.id, "r1", "me",
    )


def test_seed_spelling_of_unknown_client_is_accepted():
    assert parse_type("UNKNOW_CLIENT") is MessageType.UNKNOWN_CLIENT
    frames = Codec("me").encode(Message(MessageType.UNKNOWN_CLIENT, {}))
    header = ujson.loads(frames[2])
    header["type"] = "UNKNOW_CLIENT"
    frames[2] = dumps(header)
    assert Codec("x").decode(frames).type is MessageType.UNKNOWN_CLIENT


def _frames(msg_type=MessageType.HEARTBEAT, body=None):
    return Codec("me").encode(Message(msg_type, body or {}))


def _code(frames, codec=None):
    with pytest.raises(ProtocolError) as info:
        (codec or Codec("x")).decode(frames)
    return info.value


def test_wrong_frame_count_is_malformed():
    assert _code(_frames()[:3]).code is ErrorCode.MALFORMED
    assert _code(_frames() + [b""]).code is ErrorCode.MALFORMED


def test_other_protocol_version_is_bad_version():
    frames = _frames()
    frames[0] = b"ENODO/2"
    assert _code(frames).code is ErrorCode.BAD_VERSION


@pytest.mark.parametrize("raw", [b"{", b"[1]", b"\xff\xfe", b"null", b""])
def test_unreadable_header_is_malformed(raw):
    frames = _frames()
    frames[2] = raw
    assert _code(frames).code is ErrorCode.MALFORMED


def test_header_with_wrong_keys_is_malformed():
    frames = _frames()
    frames[2] = dumps({"type": "HEARTBEAT", "id": "1", "sender": "s"})
    assert _code(frames).code is ErrorCode.MALFORMED
    frames[2] = dumps({"type": "HEARTBEAT", "id": 1, "sender": "s", "reply_to": None})
    assert _code(frames).code is ErrorCode.MALFORMED


def test_unknown_type_keeps_the_message_id_for_the_reply():
    frames = _frames()
    frames[2] = dumps({"type": "NOPE", "id": "m7", "sender": "s", "reply_to": None})
    err = _code(frames)
    assert (err.code, err.reply_to) == (ErrorCode.UNKNOWN_TYPE, "m7")


@pytest.mark.parametrize("raw", [b"{", b"[]", b"42"])
def test_unreadable_body_is_malformed(raw):
    frames = _frames()
    frames[3] = raw
    assert _code(frames).code is ErrorCode.MALFORMED


@pytest.mark.parametrize(
    ("msg_type", "body", "needle"),
    [
        (MessageType.REMOVE_SERIE, {}, "missing key 'name'"),
        (MessageType.REMOVE_SERIE, {"name": 5}, "'name' must be str"),
        (MessageType.REMOVE_SERIE, {"name": ""}, "must not be empty"),
        (MessageType.REMOVE_SERIE, {"name": "x", "extra": 1}, "unexpected key 'extra'"),
        (MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": {"a": -1}}, "integer >= 0"),
        (MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": {"a": True}}, "integer >= 0"),
        (MessageType.HANDSHAKE, {**SAMPLES[MessageType.HANDSHAKE], "client_type": "x"}, "one of"),
        (MessageType.ADD_SERIE, {"name": "a", "realtime": 1}, "'realtime' must be bool"),
        (MessageType.UPDATE_SERIES, {"series": [{"realtime": True}]}, "string 'name'"),
        (MessageType.RESPONSE_OK, {}, "missing key 'data'"),
    ],
)
def test_body_breaking_its_schema_is_invalid(msg_type, body, needle):
    frames = _frames()
    header = ujson.loads(frames[2])
    header["type"] = msg_type.value
    frames[2], frames[3] = dumps(header), dumps(body)
    err = _code(frames)
    assert err.code is ErrorCode.INVALID
    assert needle in err.message
    assert err.reply_to == header["id"]


def test_encode_refuses_a_body_that_breaks_the_schema():
    with pytest.raises(ProtocolError) as info:
        Codec("me").encode(Message(MessageType.REMOVE_SERIE, {"name": 3}))
    assert info.value.code is ErrorCode.INVALID


def test_message_over_the_limit_is_too_large():
    big = Message(MessageType.REMOVE_SERIE, {"name": "x" * 2000})
    with pytest.raises(ProtocolError) as info:
        Codec("me", max_size=1000).encode(big)
    assert info.value.code is ErrorCode.TOO_LARGE
    frames = Codec("me").encode(big)
    assert _code(frames, Codec("x", max_size=1000)).code is ErrorCode.TOO_LARGE


def test_signature_is_checked_when_a_key_is_set():
    signed = Codec("me", b"k1").encode(Message(MessageType.HEARTBEAT, {}))
    assert _code(signed, Codec("x", b"k2")).code is ErrorCode.BAD_SIGNATURE
    unsigned = Codec("me").encode(Message(MessageType.HEARTBEAT, {}))
    assert _code(unsigned, Codec("x", b"k1")).code is ErrorCode.BAD_SIGNATURE
    tampered = list(signed)
    tampered[3] = b'{"busy":true}'
    assert _code(tampered, Codec("x", b"k1")).code is ErrorCode.BAD_SIGNATURE


def test_tag_is_the_protocol_version():
    assert _frames()[0] == PROTOCOL_TAG == b"ENODO/1"
