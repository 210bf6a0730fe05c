"""Handlers of the control socket, one per message type, looked up in a table."""

from __future__ import annotations

import logging
from collections.abc import Callable

from actors.hub.actions import run_action
from actors.hub.pattern_actions import patterns_message
from actors.hub.peers import Peer
from actors.hub.state import HubState
from protocol.envelope import Message, ok, reply
from protocol.errors import ErrorCode, ProtocolError
from protocol.types import ClientType, MessageType

log = logging.getLogger(__name__)

Handler = Callable[[HubState, Peer, Message], Message | None]


def on_heartbeat(state: HubState, peer: Peer, msg: Message) -> None:
    """A peer is alive (its expiry already moved on); a worker says what occupies it."""
    if peer.client_type is ClientType.WORKER:
        peer.reported_busy = (msg.body.get("job_id") or "?") if msg.body.get("busy") else None


def on_shutdown(state: HubState, peer: Peer, msg: Message) -> None:
    """A peer says goodbye."""
    state.drop_peer(peer, "said SHUTDOWN: " + msg.body.get("reason", "no reason given"))


def on_add_serie(state: HubState, peer: Peer, msg: Message) -> Message:
    """A client adds a series (the seed's ADD_SERIE)."""
    _require(peer, ClientType.CLIENT, msg)
    series = state.add_series(
        msg.body["name"], msg.body.get("model"), msg.body.get("model_parameters"),
        msg.body.get("realtime", False), msg.body.get("anomaly"), msg.body.get("rules"),
        msg.body.get("horizon"),
    )
    return ok(msg, series.detail())


def on_remove_serie(state: HubState, peer: Peer, msg: Message) -> Message:
    """A client removes a series."""
    _require(peer, ClientType.CLIENT, msg)
    state.remove_series(msg.body["name"])
    return ok(msg, {"name": msg.body["name"]})


def on_counts(state: HubState, peer: Peer, msg: Message) -> Message:
    """A listener reports new points per series."""
    _require(peer, ClientType.LISTENER, msg)
    matched = state.add_counts(msg.body["counts"])
    state.metrics.listener_report(peer.client_id, sum(msg.body["counts"].values()))
    return ok(msg, {"matched": matched})


def on_series_seen(state: HubState, peer: Peer, msg: Message) -> Message:
    """A listener saw unwatched series matching a pattern in the tee: queue them (checked)."""
    _require(peer, ClientType.LISTENER, msg)
    queued = state.patterns.offer(msg.body["names"], state.series)
    return ok(msg, {"queued": queued})


def on_api_request(state: HubState, peer: Peer, msg: Message) -> Message:
    """A client runs an API action."""
    return ok(msg, run_action(state, msg.body["action"], msg.body.get("params", {})))


def on_subscribe(state: HubState, peer: Peer, msg: Message) -> Message:
    """A client asks for SERIES_UPDATE pushes (all series, or the named ones)."""
    _require(peer, ClientType.CLIENT, msg)
    names = msg.body.get("series")
    peer.subscribed = True
    peer.subscriptions = set(names) if names else None
    return ok(msg, {"series": sorted(peer.subscriptions) if peer.subscriptions else None})


def on_unsubscribe(state: HubState, peer: Peer, msg: Message) -> Message:
    """A client stops the pushes."""
    peer.subscribed = False
    peer.subscriptions = None
    return ok(msg, None)


def on_reply(state: HubState, peer: Peer, msg: Message) -> None:
    """Peers answer the hub's pushes; nothing waits for those answers."""
    if msg.type is MessageType.ERROR:
        log.warning("peer %s answered an error: %s", peer.client_id, msg.body)


def _require(peer: Peer, client_type: ClientType, msg: Message) -> None:
    if peer.client_type != client_type:
        raise ProtocolError(
            ErrorCode.INVALID,
            f"{msg.type.value} is for {client_type.value}s, not {peer.client_type.value}s",
        )


HANDLERS: dict[MessageType, Handler] = {
    MessageType.HEARTBEAT: on_heartbeat,
    MessageType.SHUTDOWN: on_shutdown,
    MessageType.ADD_SERIE: on_add_serie,
    MessageType.REMOVE_SERIE: on_remove_serie,
    MessageType.LISTENER_ADD_SERIE_COUNT: on_counts,
    MessageType.API_REQUEST: on_api_request,
    MessageType.SERIES_SEEN: on_series_seen,
    MessageType.SUBSCRIBE: on_subscribe,
    MessageType.UNSUBSCRIBE: on_unsubscribe,
    MessageType.RESPONSE_OK: on_reply,
    MessageType.ERROR: on_reply,
}


def handle_handshake(state: HubState, identity: bytes, msg: Message) -> Message | None:
    """Admit a peer: HANDSHAKE_OK (then the watch list for a listener) or HANDSHAKE_FAIL."""
    try:
        peer = state.admit(identity, msg.body)
    except ProtocolError as exc:
        if exc.code is not ErrorCode.CONFLICT:  # admit() logged that one already
            log.warning("handshake of %r refused: %s", msg.body.get("client_id"), exc.message)
        return reply(msg, MessageType.HANDSHAKE_FAIL, exc.to_body())
    welcome = {
        "hub_id": state.hub_id,
        "heartbeat_interval": state.heartbeat_interval,
        "liveness": state.liveness,
    }
    if peer.hub_nonce is not None:
        welcome["nonce"] = peer.hub_nonce
    # Sent through the outbox so that HANDSHAKE_OK goes out before UPDATE_SERIES.
    state.outbox.send(identity, reply(msg, MessageType.HANDSHAKE_OK, welcome))
    if peer.client_type is ClientType.LISTENER:
        state.outbox.send(
            identity, Message(MessageType.UPDATE_SERIES, {"series": state.watch_list()})
        )
        if len(state.patterns):  # none: nothing to say (a listener before patterns knew none)
            state.outbox.send(identity, patterns_message(state))
    return None


def handle_control(state: HubState, identity: bytes, msg: Message) -> Message | None:
    """Dispatch one control-socket message; return the reply (if any)."""
    if msg.type is MessageType.HANDSHAKE:
        return handle_handshake(state, identity, msg)
    peer = state.peers.get(identity)
    if peer is None:
        if msg.type in (MessageType.SHUTDOWN, MessageType.RESPONSE_OK, MessageType.ERROR):
            return None
        return reply(msg, MessageType.UNKNOWN_CLIENT, {"message": "handshake first"})
    state.seen(peer)
    handler = HANDLERS.get(msg.type)
    if handler is None:
        raise ProtocolError(ErrorCode.INVALID, f"the hub does not accept {msg.type.value}")
    return handler(state, peer, msg)
