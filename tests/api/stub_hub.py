"""A stand-in for the hub: a real ROUTER on a loopback port, served by a thread.

Used by the HubClient, client CLI and gunicorn tests and by bench/rest_bench.py. The
socket lives in its thread only; the test thread talks to it through `answering`,
`push()` and the record of received messages, and waits on conditions with deadlines.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import zmq

from protocol.envelope import Codec, Message, error, ok
from protocol.errors import ErrorCode, ProtocolError, TransportError
from protocol.transport import BadMessage, Channel, Incoming, bind, make_socket
from protocol.types import MessageType

Handler = Callable[["StubHub", Incoming], list[Message]]
Action = Callable[[dict[str, Any]], Any]

POLL_MS = 10  # how often the thread looks at its outbox and stop flag


class StubHub:
    """ROUTER stub: records every message, answers through `handler` while `answering`."""

    def __init__(
        self,
        handler: Handler,
        key: bytes | None = None,
        address: str = "tcp://127.0.0.1:0",
    ) -> None:
        self.handler = handler
        self.codec = Codec("stub-hub", key)
        self.address = address
        self.endpoint = ""
        self.answering = threading.Event()
        self.answering.set()
        self.received: list[Incoming] = []
        self._changed = threading.Condition()
        self._outbox: queue.Queue[tuple[list[bytes], Message]] = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stub-hub", daemon=True)
        self._failure: BaseException | None = None

    def start(self, timeout: float = 5.0) -> StubHub:
        """Start the thread; return once the socket is bound (endpoint is set)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("stub hub did not start")
        if self._failure is not None:
            raise RuntimeError(f"stub hub failed: {self._failure}")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the socket."""
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> StubHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push(self, route: list[bytes], msg: Message) -> None:
        """Send msg to the peer at route from the stub's thread."""
        self._outbox.put((route, msg))

    def wait_for(self, predicate: Callable[[list[Incoming]], Any], timeout: float = 5.0) -> Any:
        """Wait until predicate(received) is truthy; return its value or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate(self.received)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("condition not met in time")
                self._changed.wait(remaining)

    def of_type(self, msg_type: MessageType) -> list[Incoming]:
        """Return the messages received so far of one type."""
        with self._changed:
            return [m for m in self.received if m.msg.type is msg_type]

    def _run(self) -> None:
        ctx = zmq.Context()
        sock = make_socket(ctx, zmq.ROUTER, self.codec.max_size)
        channel = Channel(sock, self.codec)
        try:
            self.endpoint = bind(sock, self.address)
        except TransportError as exc:
            self._failure = exc
            self._ready.set()
            channel.close()
            ctx.term()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                if sock.poll(POLL_MS, zmq.POLLIN):
                    self._receive(channel)
                while not self._outbox.empty():
                    route, msg = self._outbox.get_nowait()
                    _send(channel, msg, route)
        finally:
            channel.close()
            ctx.term()

    def _receive(self, channel: Channel) -> None:
        try:
            incoming = channel.recv(zmq.NOBLOCK)
        except BadMessage as exc:
            _send(channel, error(exc.error.reply_to, exc.error.code, exc.error.message), exc.route)
            return
        if incoming is None:
            return
        with self._changed:
            self.received.append(incoming)
            self._changed.notify_all()
        if not self.answering.is_set():
            return
        for reply in self.handler(self, incoming):
            _send(channel, reply, incoming.route)


def _send(channel: Channel, msg: Message, route: list[bytes]) -> None:
    try:
        channel.send(msg, route)
    except TransportError:
        pass  # the peer went away (its socket was reset): what a hub would shrug off too


def api_handler(actions: dict[str, Action]) -> Handler:
    """Return a handler answering API_REQUEST from the actions table, like the hub."""

    def handle(stub: StubHub, incoming: Incoming) -> list[Message]:
        msg = incoming.msg
        if msg.type is not MessageType.API_REQUEST:
            return [error(msg.id, ErrorCode.INVALID, f"stub does not take {msg.type}")]
        return [answer_action(actions, msg)]

    return handle


def answer_action(actions: dict[str, Action], msg: Message) -> Message:
    """Run the API_REQUEST msg against actions; return RESPONSE_OK or ERROR."""
    action = actions.get(msg.body["action"])
    if action is None:
        return error(msg.id, ErrorCode.INVALID, f"unknown action {msg.body['action']!r}")
    try:
        return ok(msg, action(msg.body.get("params") or {}))
    except ProtocolError as exc:
        return error(msg.id, exc.code, exc.message)


def series_actions(series: dict[str, dict[str, Any]]) -> dict[str, Action]:
    """Return list/get/add/remove actions over an in-memory dict of series details."""

    def get_series(params: dict[str, Any]) -> Any:
        name = params["name"]
        if name not in series:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no series {name!r}")
        return series[name]

    def add_series(params: dict[str, Any]) -> Any:
        name = params["name"]
        if name in series:
            raise ProtocolError(ErrorCode.CONFLICT, f"series {name!r} exists")
        series[name] = series_detail(name, params.get("model", "arima"))
        return series[name]

    def remove_series(params: dict[str, Any]) -> Any:
        get_series(params)
        del series[params["name"]]
        return {"name": params["name"]}

    return {
        "list_series": lambda params: {"series": [dict(s) for s in series.values()],
                                       "total": len(series), "limit": 1000, "next": None},
        "get_series": get_series,
        "add_series": add_series,
        "remove_series": remove_series,
    }


def series_detail(name: str, model: str | int = "arima") -> dict[str, Any]:
    """Return a series detail shaped like the hub's."""
    return {
        "name": name,
        "model": model,
        "realtime": False,
        "points": 1234,
        "jobs": {"train": "done", "fit": "done", "forecast": "queued"},
        "model_parameters": {},
        "created_at": 1700000000.0,
    }


class ControlState:
    """What a control-socket stub knows: handshaken peers, the token, the actions."""

    def __init__(
        self, actions: dict[str, Action], token: str | None = None, interval: float = 0.1
    ) -> None:
        self.actions = actions
        self.token = token
        self.interval = interval
        self.known: set[bytes] = set()

    def forget_all(self) -> None:
        """Forget every peer, as a restarted hub would (next message: UNKNOWN_CLIENT)."""
        self.known.clear()


def control_handler(state: ControlState) -> Handler:
    """Return a handler speaking the control socket's session like the hub."""

    def handle(stub: StubHub, incoming: Incoming) -> list[Message]:
        msg, peer = incoming.msg, incoming.peer
        if msg.type is MessageType.HANDSHAKE:
            if state.token is not None and msg.body.get("token") != state.token:
                body = {"code": "unauthorized", "message": "wrong or missing token"}
                return [Message(MessageType.HANDSHAKE_FAIL, body, reply_to=msg.id)]
            state.known.add(peer)
            body = {"hub_id": "stub-hub", "heartbeat_interval": state.interval, "liveness": 3}
            return [Message(MessageType.HANDSHAKE_OK, body, reply_to=msg.id)]
        if peer not in state.known:
            if msg.type is MessageType.SHUTDOWN:
                return []
            return [Message(MessageType.UNKNOWN_CLIENT, {"message": "handshake first"},
                            reply_to=msg.id)]
        if msg.type is MessageType.API_REQUEST:
            return [answer_action(state.actions, msg)]
        if msg.type is MessageType.SUBSCRIBE:
            return [ok(msg, {"series": msg.body.get("series")})]
        if msg.type is MessageType.SHUTDOWN:
            state.known.discard(peer)
        if msg.type is MessageType.HEARTBEAT:  # the real hub beats on a timer; this will do
            return [Message(MessageType.HEARTBEAT, {})]
        return []

    return handle
