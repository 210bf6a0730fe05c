"""Session keys and the session MAC in frame 1, beside the shared-key signature."""

from __future__ import annotations

import pytest

from protocol.envelope import Codec, Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.session import new_nonce, session_key, verify
from protocol.types import MessageType

JOB = {"job_id": "u.1", "worker_id": "w"}


def test_the_key_needs_the_token_and_changes_with_every_nonce():
    a, b = new_nonce(), new_nonce()
    key = session_key("token", "w", a, b)
    assert len(a) == 32 and a != b and len(key) == 32
    assert key == session_key("token", "w", a, b)
    others = {session_key("other", "w", a, b), session_key("token", "v", a, b),
              session_key("token", "w", b, a), session_key("token", "w", a, new_nonce())}
    assert key not in others and len(others) == 4


@pytest.mark.parametrize("shared", [None, b"shared"])
def test_the_session_mac_travels_after_the_signature_and_proves_the_frames(shared):
    frames = Codec("w", shared).encode(Message(MessageType.JOB_ACCEPTED, JOB), b"s" * 32)
    signature, mac = frames[1].split(b".")
    assert len(mac) == 64 and (len(signature) == 64) is (shared is not None)
    msg = Codec("hub", shared).decode(frames)
    assert verify(b"s" * 32, msg) and not verify(b"t" * 32, msg) and not verify(None, msg)
    tampered = Codec("hub").decode(frames[:3] + [frames[3].replace(b"u.1", b"u.2")])
    assert not verify(b"s" * 32, tampered)


def test_without_a_session_mac_nothing_is_proven_and_the_signature_is_still_checked():
    msg = Codec("hub").decode(Codec("w").encode(Message(MessageType.JOB_ACCEPTED, JOB)))
    assert msg.session_mac == b"" and not verify(b"s" * 32, msg)
    frames = Codec("w", b"shared").encode(Message(MessageType.JOB_ACCEPTED, JOB), b"s" * 32)
    with pytest.raises(ProtocolError) as bad:
        Codec("hub", b"another").decode(frames)
    assert bad.value.code is ErrorCode.BAD_SIGNATURE
