"""Hostile input on every hub socket: control ROUTER, api ROUTER, results PULL.

A real hub (small message size limit) is fed hypothesis-generated frames. After every
case a probe on the same socket must be answered (control, api) or seen in the log
(results, which never answers), every reply must be a valid protocol message, the
process must be up, and at the end the guard series and the settings are unchanged and
a fresh peer's handshake and API calls work.
"""

from __future__ import annotations

import itertools

import pytest
import zmq
from hypothesis import given
from hypothesis import strategies as st

from protocol.envelope import Message
from protocol.session import new_nonce
from protocol.types import MessageType
from tests.fuzz.cases import fuzz_settings, tried
from tests.fuzz.peers import HUB_SENDS, LogTail, RawPeer, hub_token, with_token
from tests.fuzz.strategies import frames
from tests.support.hub import HubProcess, Peer

MAX_MESSAGE = 64 * 1024
GUARD = "fuzz/guard 'series'"
PEER_KINDS = [None, "client", "listener", "worker"]
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub-fuzz")
    hub = HubProcess(tmp, extra={"ENODO_HUB_MAX_MESSAGE_SIZE": str(MAX_MESSAGE)}).start()
    with Peer(hub.address("control"), "fuzz-setup", "client") as admin:
        assert admin.handshake().type is MessageType.HANDSHAKE_OK
        assert admin.api("add_series", name=GUARD, model="arima").type is MessageType.RESPONSE_OK
        settings = admin.api("set_settings", settings={"horizon": 13, "fit_every": 7})
        assert settings.type is MessageType.RESPONSE_OK
    hub.expected = snapshot(hub)
    yield hub
    hub.stop()


def snapshot(hub: HubProcess) -> dict:
    """What fuzzing must not change: the guard series' definition and the settings."""
    with Peer(hub.address("control"), f"fuzz-check-{next(_ids)}", "client") as peer:
        assert peer.handshake().type is MessageType.HANDSHAKE_OK
        detail = peer.api("get_series", name=GUARD)
        settings = peer.api("get_settings")
        listed = peer.api("list_series")
    assert MessageType.RESPONSE_OK == detail.type == settings.type == listed.type
    series = detail.body["data"]
    return {
        "guard": {k: series[k] for k in ("name", "model", "model_parameters", "realtime")},
        "settings": settings.body["data"],
        "listed": GUARD in [s["name"] for s in listed.body["data"]["series"]],
    }


def assert_intact(hub: HubProcess) -> None:
    assert hub.proc.poll() is None, hub.log_path.read_text()[-3000:]
    assert snapshot(hub) == hub.expected


def probe(peer: RawPeer, delimiter: bool = False, token: str | None = None) -> list[Message]:
    """Ask get_settings; return everything received before its answer."""
    msg = Message(MessageType.API_REQUEST, with_token({"action": "get_settings"}, token))
    answer, before = peer.request(msg, delimiter)
    assert answer.type in (MessageType.RESPONSE_OK, MessageType.UNKNOWN_CLIENT), answer
    return before


def control_property(hub: HubProcess, examples: int) -> None:
    peers = {kind: RawPeer(hub.address("control"), identity=f"fuzz-{kind}".encode())
             for kind in PEER_KINDS}

    @fuzz_settings(examples)
    @given(kind=st.sampled_from(PEER_KINDS), data=st.lists(frames, min_size=1, max_size=3))
    def feed(kind, data):
        # A peer that never handshakes gets a few messages read per identity and window
        # (actors/hub/gate.py): each case is a new one.
        peer = peers[kind] if kind is not None else anonymous()
        if kind is not None:
            hello = Message(MessageType.HANDSHAKE, with_token({
                "client_id": f"fuzz-{kind}", "client_type": kind, "version": "fuzz",
                "protocol": 1, "capacity": 0, "nonce": new_nonce()}, hub_token(hub)))
            answer, _ = peer.request(hello)
            assert answer.type is MessageType.HANDSHAKE_OK, answer
        for message in data:
            peer.send_raw(message)
        for msg in probe(peer):
            assert msg.type in HUB_SENDS, msg
        assert hub.proc.poll() is None
        tried("hub control ROUTER", len(data))

    def anonymous() -> RawPeer:
        peers[None].close()
        peers[None] = RawPeer(hub.address("control"), identity=b"fuzz-anon-%d" % next(_ids))
        return peers[None]

    try:
        feed()
    finally:
        for peer in peers.values():
            peer.close()


def api_property(hub: HubProcess, examples: int) -> None:
    peer = RawPeer(hub.address("api"))

    @fuzz_settings(examples)
    @given(data=st.lists(frames, min_size=1, max_size=3), delimiter=st.booleans())
    def feed(data, delimiter):
        for message in data:
            peer.send_raw(([b""] if delimiter else []) + message)
        for msg in probe(peer, delimiter=True, token=hub_token(hub)):
            assert msg.type in (MessageType.RESPONSE_OK, MessageType.ERROR), msg
        assert hub.proc.poll() is None
        tried("hub api ROUTER", len(data))

    try:
        feed()
    finally:
        peer.close()


def results_property(hub: HubProcess, examples: int) -> None:
    push = RawPeer(hub.address("results"), zmq.PUSH)
    log = LogTail(hub.log_path)

    @fuzz_settings(examples)
    @given(data=st.lists(frames, min_size=1, max_size=3))
    def feed(data):
        for message in data:
            push.send_raw(message)
        # The results socket answers nothing: its log line for a probe says all before it
        # (same connection, same order) was handled.
        job_id = f"fuzz-probe-{next(_ids)}"
        push.send(Message(MessageType.JOB_FAILED,
                          {"job_id": job_id, "worker_id": "fuzz", "error": "probe"}))
        log.wait_for(f"for job {job_id}")
        assert hub.proc.poll() is None
        tried("hub results PULL", len(data))

    try:
        feed()
    finally:
        push.close()


@pytest.mark.parametrize("target", [control_property, api_property, results_property],
                         ids=["control", "api", "results"])
def test_hub_sockets_survive_hostile_frames(hub, target):
    target(hub, 60)
    assert_intact(hub)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("target", [control_property, api_property, results_property],
                         ids=["control", "api", "results"])
def test_hub_sockets_survive_hostile_frames_deep(hub, target):
    target(hub, 3000)
    assert_intact(hub)


def test_oversized_frames_are_refused_and_the_hub_serves_on(hub):
    peer = RawPeer(hub.address("control"))
    try:
        # Over the protocol limit but under ZMQ_MAXMSGSIZE, from a handshaken peer (one
        # that has not handshaken gets no answer to so large a message): answered
        # too_large (the header is not read, so the error answers no id).
        hello = Message(MessageType.HANDSHAKE, with_token({
            "client_id": "fuzz-big", "client_type": "client", "version": "fuzz",
            "protocol": 1}, hub_token(hub)))
        assert peer.request(hello)[0].type is MessageType.HANDSHAKE_OK
        msg = Message(MessageType.API_REQUEST, {"action": "get_settings"})
        frames = peer.codec.encode(msg)
        frames[3] = frames[3][:-1] + b', "pad": "' + b"x" * MAX_MESSAGE + b'"}'
        peer.send_raw(frames)
        answer, _ = peer.collect(None)
        assert answer.type is MessageType.ERROR and answer.body["code"] == "too_large"
        # Over ZMQ_MAXMSGSIZE: libzmq drops the connection; nothing reaches the hub.
        peer.send_raw([b"ENODO/1", b"", b"{}", b"x" * (MAX_MESSAGE + 8192)])
        assert not peer.sock.poll(300)
        tried("hub oversized frames", 2)
    finally:
        peer.close()
    for address in ("api", "results"):
        big = RawPeer(hub.address(address), zmq.PUSH if address == "results" else zmq.DEALER)
        big.send_raw([b"x" * (MAX_MESSAGE * 4)])
        big.close()
        tried("hub oversized frames")
    assert_intact(hub)


def test_counts_past_the_limit_are_refused_and_nothing_breaks(hub):
    name = "fuzz/counted"
    with Peer(hub.address("control"), "fuzz-admin", "client") as admin, \
            Peer(hub.address("control"), "fuzz-listener", "listener") as listener:
        assert admin.handshake().type is MessageType.HANDSHAKE_OK
        assert admin.api("add_series", name=name).type is MessageType.RESPONSE_OK
        assert listener.handshake().type is MessageType.HANDSHAKE_OK
        answers = [listener.request(Message(MessageType.LISTENER_ADD_SERIE_COUNT,
                                            {"counts": {name: 2**63 - 1}})) for _ in range(2)]
        assert [a.body["code"] for a in answers] == ["invalid", "invalid"]
        counted = listener.request(Message(MessageType.LISTENER_ADD_SERIE_COUNT,
                                           {"counts": {name: 7}}))
        assert counted.type is MessageType.RESPONSE_OK
        detail = admin.api("get_series", name=name)
        assert detail.body["data"]["points_counted"] == 7
        assert admin.api("remove_series", name=name).type is MessageType.RESPONSE_OK
    tried("hub control ROUTER", 3)
    assert_intact(hub)


def test_many_connections_at_once(hub):
    peers = [RawPeer(hub.address(("control", "api")[i % 2])) for i in range(300)]
    try:
        for i, peer in enumerate(peers):
            peer.send_raw([b"ENODO/1", b"", b"{", b"x" * (i % 7)])
        for peer in peers[::30]:  # every peer is answered; sample a few while all are open
            answer, _ = peer.collect(None)
            assert answer.body["code"] == "malformed"
    finally:
        for peer in peers:
            peer.close()
    tried("hub control ROUTER", 150)
    tried("hub api ROUTER", 150)
    assert_intact(hub)
