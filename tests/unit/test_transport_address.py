"""A ROUTER channel reads a new peer's network address, and only when asked to."""

from __future__ import annotations

import zmq

from protocol.envelope import Codec, Message
from protocol.transport import Channel, bind, make_socket
from protocol.types import MessageType


def test_the_address_is_read_for_identities_asked_about_only():
    ctx = zmq.Context()
    try:
        asked: list[bytes] = []
        router = Channel(make_socket(ctx, zmq.ROUTER, 1 << 20), Codec("hub"),
                         note_address=lambda ident: not asked.append(ident) and ident == b"new")
        endpoint = bind(router.socket, "tcp://127.0.0.1:0")
        peers = {}
        for ident in (b"new", b"known"):
            peers[ident] = Channel(make_socket(ctx, zmq.DEALER, 1 << 20, identity=ident),
                                   Codec(ident.decode()))
            peers[ident].socket.connect(endpoint)
            peers[ident].send(Message(MessageType.HEARTBEAT, {}))
        got = {}
        for _ in range(2):
            assert router.socket.poll(5000)
            incoming = router.recv()
            got[incoming.peer] = incoming
        assert got[b"new"].address == "127.0.0.1"
        assert got[b"known"].address is None
        assert got[b"new"].msg.type is MessageType.HEARTBEAT  # the message itself is whole
        assert sorted(asked) == [b"known", b"new"]
        for channel in (router, *peers.values()):
            channel.close()
    finally:
        ctx.term()
