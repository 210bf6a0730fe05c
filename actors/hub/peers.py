"""Peers connected to the hub's control socket, each with an expiry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from protocol.types import ClientType


@dataclass(slots=True)
class Peer:
    """A handshaken DEALER peer: who it is and when it counts as gone."""

    identity: bytes
    client_id: str
    client_type: ClientType
    version: str
    expires_at: float
    capacity: int = 1
    models: list[str] = field(default_factory=list)
    subscribed: bool = False
    subscriptions: set[str] | None = None  # None: every series
    busy_jobs: set[str] = field(default_factory=set)
    # What the worker last said occupies it: its heartbeat's job_id while busy ("?" after a
    # refusal, until its next heartbeat); None when idle.
    reported_busy: str | None = None
    # The session (protocol/session.py): the key proving this worker's jobs and results,
    # the hub's nonce sent in HANDSHAKE_OK, and the peer's process id (same across its
    # reconnects). None for peers that sent no nonce: they get no jobs.
    session_key: bytes | None = field(default=None, repr=False)
    hub_nonce: str | None = None
    instance: str | None = None
    #: Where its connection comes from (ZeroMQ's Peer-Address), read at the handshake.
    address: str | None = None

    def free(self, out: dict) -> int:
        """Jobs this worker can take now, given the jobs out by dispatch id."""
        # A worker busy with a job this hub did not give it (given before a restart, or a
        # dispatch that is over) is not idle either; without this, jobs sent to it came
        # straight back refused, turn after turn, until that job ended.
        foreign = self.reported_busy is not None and self.reported_busy not in out
        return self.capacity - len(self.busy_jobs) - foreign

    def follows(self, name: str) -> bool:
        """True when this peer subscribed to updates of series `name`."""
        return self.subscribed and (self.subscriptions is None or name in self.subscriptions)


class PeerTable:
    """Peers by ZMQ identity and by client id; `expired()` tells who went silent."""

    def __init__(self) -> None:
        self._by_identity: dict[bytes, Peer] = {}
        self._by_client_id: dict[str, Peer] = {}

    def __len__(self) -> int:
        return len(self._by_identity)

    def __iter__(self) -> Iterator[Peer]:
        return iter(list(self._by_identity.values()))

    def get(self, identity: bytes) -> Peer | None:
        """Return the peer with this ZMQ identity, or None."""
        return self._by_identity.get(identity)

    def by_client_id(self, client_id: str) -> Peer | None:
        """Return the online peer with this client id, or None."""
        return self._by_client_id.get(client_id)

    def add(self, peer: Peer) -> Peer | None:
        """Add peer; return the older peer with the same client id that it replaces."""
        old = self._by_client_id.get(peer.client_id)
        if old is not None:
            self._by_identity.pop(old.identity, None)
        stale = self._by_identity.get(peer.identity)
        if stale is not None and stale.client_id != peer.client_id:
            self._by_client_id.pop(stale.client_id, None)
        self._by_identity[peer.identity] = peer
        self._by_client_id[peer.client_id] = peer
        return old

    def remove(self, identity: bytes) -> Peer | None:
        """Remove and return the peer with this identity (None when unknown)."""
        peer = self._by_identity.pop(identity, None)
        if peer is not None and self._by_client_id.get(peer.client_id) is peer:
            del self._by_client_id[peer.client_id]
        return peer

    def of_type(self, client_type: ClientType) -> list[Peer]:
        """Return the online peers of one type."""
        return [p for p in self._by_identity.values() if p.client_type == client_type]

    def expired(self, now: float) -> list[Peer]:
        """Return the peers whose expiry has passed."""
        return [p for p in self._by_identity.values() if p.expires_at <= now]

    def counts(self) -> dict[str, int]:
        """Return the number of online peers per type."""
        out = {t.value: 0 for t in ClientType}
        for peer in self._by_identity.values():
            out[peer.client_type.value] += 1
        return out
