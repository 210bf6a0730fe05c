"""The scale bench's peers, each a process: listeners, stub workers and the job driver.

Every peer speaks the real protocol over real sockets (protocol/transport.py Channels with
the protocol's Codec): a listener handshakes and sends LISTENER_ADD_SERIE_COUNT; a stub
worker handshakes with a nonce, keeps its session key, beats, takes jobs on its control
session and answers each with JOB_ACCEPTED and JOB_RESULT on the results socket, both MACed
under its session key, at once (no model: the hub's cost per job is what is measured).
Each peer runs until its stop Event is set and then puts its tallies on the queue.
"""

from __future__ import annotations

import random
import time
from typing import Any

import zmq

from protocol.envelope import Codec, Message
from protocol.jobs import JOB_TYPES
from protocol.transport import Channel, make_socket
from protocol.types import MessageType
from tests.support.hub import Peer

MAX_SIZE = 1 << 26  # a listener's UPDATE_SERIES holds every watched name


def _handshake(address: str, client_id: str, kind: str, token: str, **extra: Any) -> Peer:
    peer = Peer(address, client_id, kind, token=token)
    peer.channel.socket.setsockopt(zmq.MAXMSGSIZE, MAX_SIZE)
    answer = peer.handshake(timeout=120, **extra)
    if answer.type is not MessageType.HANDSHAKE_OK:
        raise RuntimeError(f"{client_id}: handshake refused: {answer.body}")
    return peer


def listener_main(address: str, token: str, no: int, names: list[str], interval: float,
                  point_interval: float, stop: Any, out: Any) -> None:
    """Every `interval` s, counts for the share of `names` that got a point meanwhile.

    Each series gets one point every point_interval seconds on average; the listener
    holds 1/len(listeners) of them (names is its share).
    """
    rng = random.Random(no)
    peer = _handshake(address, f"scale-listener-{no}", "listener", token)
    sock, sent, acked, rtts = peer.channel.socket, 0, 0, []
    pending: dict[str, float] = {}
    per_report = max(1, round(len(names) * interval / point_interval))
    next_at = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_at:
            counts = {name: 1 for name in rng.sample(names, min(per_report, len(names)))}
            msg = Message(MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": counts})
            peer.channel.send(msg)
            pending[msg.id] = now
            sent += 1
            next_at += interval
        if sock.poll(max(0, int((next_at - time.monotonic()) * 1000))):
            answer = peer.channel.recv().msg
            started = pending.pop(answer.reply_to or "", None)
            if started is not None:
                acked += 1
                rtts.append(time.monotonic() - started)
    peer.close()
    out.put(("listener", {"sent": sent, "acked": acked, "rtts": rtts, "per_report": per_report}))


def worker_main(control: str, results: str, token: str, no: int, capacity: int,
                stop: Any, out: Any) -> None:
    """A stub worker: takes jobs and answers each with a forecast result at once."""
    client_id = f"scale-worker-{no}"
    peer = _handshake(control, client_id, "worker", token, capacity=capacity,
                      models=["arima", "prophet"], instance=f"scale-{no}")
    push = Channel(make_socket(zmq.Context.instance(), zmq.PUSH, MAX_SIZE), Codec(client_id))
    push.socket.connect(results)
    sock, key, done, interval = peer.channel.socket, peer.session_key, 0, 0.5
    next_beat = 0.0
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_beat:
            peer.channel.send(Message(MessageType.HEARTBEAT, {"busy": False}))
            next_beat = now + interval
        if not sock.poll(50):
            continue
        while True:
            try:
                msg = peer.channel.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            if msg is None:
                break
            msg = msg.msg
            if msg.type not in JOB_TYPES:
                continue
            job_id = msg.body["job_id"]
            push.send(Message(MessageType.JOB_ACCEPTED, {"job_id": job_id, "worker_id": client_id}),
                      session_key=key)
            push.send(Message(MessageType.JOB_RESULT, {
                "job_id": job_id, "worker_id": client_id,
                "result": stub_result(msg.type, msg.body)}), session_key=key)
            done += 1
    peer.close()
    push.socket.close(linger=2000)
    out.put(("worker", {"done": done}))


def stub_result(kind: MessageType, body: dict[str, Any]) -> dict[str, Any]:
    """What a worker answers: a new model state, or a forecast of the job's horizon."""
    if kind is not MessageType.FORECAST_SERIE:
        return {"state": body.get("state") or {"kind": "stub"}, "count": None}
    horizon = body["settings"].get("horizon", 24)
    now_ms = int(time.time() * 1000)
    step = 3_600_000
    mean = [100.0 + k % 7 for k in range(horizon)]
    return {"forecast": {"timestamps": [now_ms + k * step for k in range(1, horizon + 1)],
                         "mean": mean, "lower": [m - 6.5 for m in mean],
                         "upper": [m + 6.5 for m in mean], "level": 0.95},
            "anomalies": [], "events": [],
            "detector": {"last_ts": now_ms, "flags": [0] * 20, "quiet": 0}}


def driver_main(address: str, token: str, names: list[str], rate: float, window: int,
                stop: Any, out: Any) -> None:
    """Queue a forecast of the series in turn, `rate` per second (0: as fast as answered).

    A client on the control socket, up to `window` requests unanswered: the refresh of
    every series every few minutes, as an operator's trigger would ask for it.
    """
    peer = _handshake(address, "scale-driver", "client", token)
    sock, sent, acked, refused = peer.channel.socket, 0, 0, 0
    pending: set[str] = set()
    started = time.monotonic()
    while not stop.is_set():
        due = len(names) if rate <= 0 else int((time.monotonic() - started) * rate)
        while sent < due and len(pending) < window:
            name = names[sent % len(names)]
            msg = Message(MessageType.API_REQUEST, {"action": "queue_job", "params": {
                "name": name, "job_type": "forecast"}})
            peer.channel.send(msg)
            pending.add(msg.id)
            sent += 1
        if sock.poll(20):
            while sock.poll(0):
                answer = peer.channel.recv().msg
                if answer.reply_to in pending:
                    pending.discard(answer.reply_to)
                    acked += 1
                    refused += answer.type is not MessageType.RESPONSE_OK
        if rate <= 0 and sent >= len(names) and not pending:
            break
    peer.close()
    out.put(("driver", {"sent": sent, "acked": acked, "refused": refused}))
