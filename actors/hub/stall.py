"""While a commit waits on the disk or a lock: heartbeats in and out, the rest held.

The hub's replies wait for the commit of their turn (an acknowledged change survives a
kill -9), so the loop cannot go on with its usual work while the writer thread is stuck.
It must not go silent either: a stalled commit used to stop the loop for ~20 s, every
peer counted the hub dead and left, and REST answered 503. So the loop waits here
instead, touching no SQLite: heartbeats from known peers move their expiry on, the hub's
own heartbeats go out on time, `enodo_status` is answered (from memory), and every other
message is held, in order, for the next turn (up to MAX_HELD; then the sockets are left
unread and ZeroMQ's high-water marks push back on the senders). No peer expires while a
commit waits: one that heartbeats is alive, and dropping one writes an event.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING

import zmq

from protocol.envelope import Message
from protocol.errors import ProtocolError, TransportError
from protocol.transport import Incoming, poll
from protocol.types import MessageType

if TYPE_CHECKING:
    from actors.hub.server import HubServer

log = logging.getLogger(__name__)

#: Seconds a commit may take before the loop switches to keeping peers alive.
STALL_AFTER = 0.05
#: Messages held for after the commit, at most.
MAX_HELD = 2000
#: Seconds between "still waiting" warnings.
REPORT_EVERY = 5.0
#: API actions answered while a commit waits: read from memory, and telling.
LIVE_ACTIONS = frozenset({"enodo_status"})


class StallGuard:
    """Waits for a commit while keeping the hub's peers and REST status alive."""

    def __init__(self, server: HubServer) -> None:
        self.server = server
        self.held: list[tuple[str, Incoming]] = []
        self.poller = zmq.Poller()
        for channel in (server.control, server.api):
            self.poller.register(channel.socket, zmq.POLLIN)
        #: Commits that waited past STALL_AFTER, and the longest wait (seconds).
        self.stalls = 0
        self.longest = 0.0

    def wait(self, pending: Future[None]) -> None:
        """Return when pending is done (its error, if any, is the caller's to raise)."""
        try:
            pending.result(timeout=STALL_AFTER)
            return
        except TimeoutError:
            pass
        except Exception:  # noqa: BLE001 - raised by the caller's pending.result()
            return
        server = self.server
        started = server.clock()
        next_report = started + REPORT_EVERY
        self.stalls += 1
        while not pending.done():
            now = server.clock()
            self._heartbeats(now)
            if now >= next_report:
                log.warning("commit waiting for %.0f s (disk stall or database lock); peers"
                            " kept alive, %d messages held", now - started, len(self.held))
                next_report = now + REPORT_EVERY
            timeout = max(0.0, min(server._next_heartbeat - now, 0.05))
            if len(self.held) >= MAX_HELD:
                _wait(pending, timeout)
                continue
            ready = poll(self.poller, timeout)
            if server.control.socket in ready:
                server._drain(server.control, self._on_control)
            if server.api.socket in ready:
                server._drain(server.api, self._on_api, server._send_api_error)
        waited = server.clock() - started
        self.longest = max(self.longest, waited)
        if waited >= 1.0:
            log.warning("commit done after %.1f s; %d held messages follow", waited,
                        len(self.held))

    def take(self) -> list[tuple[str, Incoming]]:
        """Return and clear the held messages, oldest first."""
        held, self.held = self.held, []
        return held

    def _heartbeats(self, now: float) -> None:
        server = self.server
        if now >= server._next_heartbeat:
            beat = Message(MessageType.HEARTBEAT, {})
            for peer in server.state.peers:
                server._send_control(peer.identity, beat)
            server._next_heartbeat = now + server.state.heartbeat_interval

    def _on_control(self, incoming: Incoming) -> None:
        # A known peer's heartbeat changes memory only (expiry, a worker's busy flag).
        if incoming.msg.type is MessageType.HEARTBEAT and self.server.state.peers.get(
            incoming.peer
        ):
            self.server._on_control(incoming)
        else:
            self.held.append(("control", incoming))

    def _on_api(self, incoming: Incoming) -> None:
        msg = incoming.msg
        if msg.type is MessageType.API_REQUEST and msg.body.get("action") in LIVE_ACTIONS:
            route, reply = self.server._on_api(incoming)
            try:
                self.server.api.send(reply, route, zmq.NOBLOCK)
            except (TransportError, ProtocolError) as exc:
                log.warning("api reply lost: %s", exc)
        else:
            self.held.append(("api", incoming))


def _wait(pending: Future[None], timeout: float) -> None:
    try:
        pending.result(timeout=timeout)
    except Exception:  # noqa: BLE001 - only waiting here; the caller raises it
        pass
