"""Harness for the worker's integration tests: a fake hub, a worker process, SiriDB helpers.

The fake hub binds the two sockets a real hub binds for workers (control ROUTER, results
PULL) on random loopback ports. A thread serves the control socket: it answers HANDSHAKE
with HANDSHAKE_OK (agreeing a session key as the real hub does), heartbeats back, sends the
jobs tests give it (MACed under that key), and records every message; tests read the record
and the results socket (whose messages must carry the session's MAC) with deadlines. This
module holds no tests.
"""

from __future__ import annotations

import asyncio
import math
import os
import queue
import threading
from pathlib import Path
from typing import Any

import zmq

from protocol.envelope import Codec, Message
from protocol.jobs import JOB_TYPES
from protocol.session import new_nonce, session_key, verify
from protocol.transport import Channel, bind, make_socket
from protocol.types import MessageType
from tests.support.process import ActorProcess
from tests.support.waiting import wait_for

MAX_SIZE = 1 << 24


class FakeHub:
    """The hub's control and results sockets; control served by a thread, results by the test."""

    def __init__(self, heartbeat_interval: float = 0.2, liveness: int = 5) -> None:
        self.ctx = zmq.Context()
        self.codec = Codec("fake-hub")
        self.control = Channel(make_socket(self.ctx, zmq.ROUTER, MAX_SIZE), self.codec)
        self.results = Channel(make_socket(self.ctx, zmq.PULL, MAX_SIZE), self.codec)
        self.endpoints = {
            name: bind(channel.socket, "tcp://127.0.0.1:0")
            for name, channel in (("control", self.control), ("results", self.results))
        }
        self.key: bytes | None = None  # the current session's key
        self.heartbeat_interval, self.liveness = heartbeat_interval, liveness
        self.received: queue.Queue[Message] = queue.Queue()
        self.log: list[Message] = []
        self.silent = threading.Event()  # drop everything, answer nothing
        self.dropped: list[Message] = []  # what arrived while silent
        # Sent to the last peer seen; a job with the session's MAC.
        self.outbox: queue.Queue[Message] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def port(self, name: str) -> int:
        """The port one socket is bound on."""
        return int(self.endpoints[name].rsplit(":", 1)[1])

    def _serve(self) -> None:
        peer: bytes | None = None
        while not self._stop.is_set():
            while peer is not None and not self.outbox.empty():
                out = self.outbox.get()
                key = self.key if out.type in JOB_TYPES else None
                self.control.send(out, [peer], session_key=key)
            if not self.control.socket.poll(50):
                continue
            incoming = self.control.recv()
            if self.silent.is_set():
                self.dropped.append(incoming.msg)
                continue
            peer, msg = incoming.peer, incoming.msg
            self.log.append(msg)
            self.received.put(msg)
            if msg.type is MessageType.HANDSHAKE:
                nonce = new_nonce()
                self.key = session_key(msg.body.get("token", ""), msg.body["client_id"],
                                       msg.body["nonce"], nonce)
                body = {"hub_id": "fake", "heartbeat_interval": self.heartbeat_interval,
                        "liveness": self.liveness, "nonce": nonce}
                self.control.send(Message(MessageType.HANDSHAKE_OK, body, reply_to=msg.id),
                                  [peer])
            elif msg.type is MessageType.HEARTBEAT:
                self.control.send(Message(MessageType.HEARTBEAT, {}), [peer])

    def expect_control(self, kind: MessageType, timeout: float = 10.0) -> Message:
        """Return the next control message of kind (others are skipped) within timeout."""
        def found() -> Message | None:
            while not self.received.empty():
                msg = self.received.get()
                if msg.type is kind:
                    return msg
            return None

        return wait_for(found, timeout, f"{kind.value} on the control socket")

    def push(self, kind: MessageType, body: dict[str, Any]) -> None:
        """Send one job over the control session (once there is one)."""
        wait_for(lambda: self.key is not None, 10, "a session to send a job in")
        self.outbox.put(Message(kind, body))

    def result(self, timeout: float = 20.0) -> Message:
        """Receive one message from the results socket (MACed in this session) or fail."""
        if not self.results.socket.poll(timeout * 1000):
            raise AssertionError(f"no result within {timeout}s")
        msg = self.results.recv().msg
        assert verify(self.key, msg), f"{msg.type.value} without the session's MAC"
        return msg

    def outcome(self, job_id: str, timeout: float = 30.0) -> Message:
        """Skip JOB_ACCEPTED for job_id and return its final message."""
        while True:
            msg = self.result(timeout)
            if msg.body["job_id"] == job_id and msg.type is not MessageType.JOB_ACCEPTED:
                return msg

    def close(self) -> None:
        """Stop the thread and close everything."""
        self._stop.set()
        self._thread.join(5)
        for channel in (self.control, self.results):
            channel.close()
        self.ctx.term()


def job(job_id: str, series: str, model: str = "arima", state: dict | None = None,
        **settings: Any) -> dict[str, Any]:
    """A job body as the hub sends it."""
    base = {"horizon": 12, "interval_level": 0.9, "max_points": 5000, "max_job_duration": 60}
    base.update(settings)
    return {"job_id": job_id, "series": series, "model": model, "model_parameters": {},
            "state": state, "settings": base, "attempt": 1}


class WorkerProcess(ActorProcess):
    """enodo-worker as a subprocess, pointed at a fake hub and a SiriDB port."""

    def __init__(self, tmp: Path, hub: FakeHub, siridb_port: int, **extra: str) -> None:
        super().__init__(tmp / "worker.log", dict(os.environ))
        self.env.update(
            ENODO_WORKER_CONTROL_PORT=str(hub.port("control")),
            ENODO_WORKER_RESULTS_PORT=str(hub.port("results")),
            ENODO_WORKER_STATE_DIR=str(tmp / "state"), ENODO_WORKER_LOG_LEVEL="DEBUG",
            ENODO_WORKER_RECONNECT_MIN="0.1", ENODO_WORKER_SHUTDOWN_GRACE="5",
            ENODO_SIRIDB_PORT=str(siridb_port), ENODO_SIRIDB_DATABASE="dbtest",
            ENODO_SIRIDB_TIMEOUT="2", ENODO_WORKER_METRICS_PORT="0",  # /metrics off
        )
        self.env.update(extra)
        self.spawn("actors.worker.main", "--id", "7")

    def log_tail(self) -> str:
        """The end of the worker's log."""
        return self.log_path.read_text(errors="replace")[-3000:]


def seasonal_points(n: int, start: int = 1_700_000_000_000, step: int = 3_600_000,
                    period: int = 24) -> list[list[Any]]:
    """Hourly points with a daily cycle and a slow trend (ms timestamps)."""
    return [
        [start + i * step, 50.0 + 10.0 * math.sin(2 * math.pi * i / period) + 0.01 * i
         + 0.5 * math.sin(i * 1.7)]
        for i in range(n)
    ]


def siridb(port: int, *calls: tuple[str, Any]) -> list[Any]:
    """Run ("query", text) / ("insert", data) calls against the dev server; return replies."""
    from siridb.connector import SiriDBClient

    async def run() -> list[Any]:
        client = SiriDBClient("iris", "siri", "dbtest", [("127.0.0.1", port)])
        await client.connect()
        try:
            out = []
            for kind, arg in calls:
                out.append(await (client.query(arg) if kind == "query" else client.insert(arg)))
            return out
        finally:
            client.close()

    return asyncio.run(asyncio.wait_for(run(), 30))
