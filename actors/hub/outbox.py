"""What the hub sends on the control socket: queued during a turn, sent after its commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from protocol.envelope import Message
from protocol.errors import ProtocolError, TransportError

#: Told why a message could not be sent: TransportError (the peer is gone or its pipe is
#: full) or ProtocolError (the message breaks its schema or the size limit).
OnLost = Callable[[TransportError | ProtocolError], None]


class Outgoing(NamedTuple):
    """One message for one peer of the control socket."""

    identity: bytes
    msg: Message
    #: MAC the message under this session key (a job: only its worker can prove it).
    session_key: bytes | None = None
    #: Called instead of a log line when the server cannot send it (a job goes back).
    on_lost: OnLost | None = None


@dataclass
class Outbox:
    """Messages to send on the control socket once this turn's changes are committed.

    Replies, pushes, heartbeats and jobs alike: a peer hears of a change only once it is
    on disk, and in the order the turn made them (a worker's HANDSHAKE_OK before its job).
    """

    items: list[Outgoing] = field(default_factory=list)

    def send(self, identity: bytes, msg: Message, session_key: bytes | None = None,
             on_lost: OnLost | None = None) -> None:
        """Queue msg for the peer with this identity."""
        self.items.append(Outgoing(identity, msg, session_key, on_lost))

    def take(self) -> list[Outgoing]:
        """Return and clear the queued messages."""
        items, self.items = self.items, []
        return items
