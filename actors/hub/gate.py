"""What a peer that has not handshaken may cost the hub: a few small messages, then nothing.

Anyone who can reach the control port can connect and send; until a HANDSHAKE with the
token succeeds, the hub owes such a peer no more than an answer or two. The gate looks at
the raw frames before they are decoded: a message from a handshaken peer passes; one from
an unknown identity passes only while it is small (a HANDSHAKE is well under 1 KB), its
identity has budget left in this window, and all unknown identities together have budget
left in this second. The rest is dropped unread and unanswered, so a flood costs neither
decoding nor replies piling up in the pipes of peers that never read. The table of
unknown identities is bounded (least recently seen forgotten first); it holds two numbers
per identity and nothing else.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: Largest message (all frames) read from a peer that has not handshaken.
MAX_UNKNOWN_SIZE = 64 * 1024
#: Messages read per unknown identity per window (a handshake, a retry, a stray heartbeat).
PER_PEER = 8
#: Seconds of that window.
PER_PEER_WINDOW = 10.0
#: Messages read from all unknown identities together per second.
TOTAL_PER_SECOND = 500
#: Unknown identities tracked at once.
MAX_TRACKED = 4096


class PreHandshakeGate:
    """Decides, from routing frames and sizes only, whether a control message is read."""

    def __init__(
        self, known: Callable[[bytes], Any], clock: Callable[[], float] = time.monotonic,
        total_per_second: int = TOTAL_PER_SECOND, max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.known = known
        self.clock = clock
        self.total_per_second = total_per_second
        self.max_tracked = max_tracked
        self._tracked: OrderedDict[bytes, list[float]] = OrderedDict()  # [window start, count]
        self._second = 0.0
        self._spent = 0
        #: Messages dropped so far, by reason (for tests and the log).
        self.dropped = {"too_large": 0, "peer_budget": 0, "total_budget": 0}

    def admit(self, route: list[bytes], frames: list[bytes]) -> bool:
        """True to read the message; False to drop it unread (counted and logged, limited)."""
        identity = route[0] if route else b""
        if self.known(identity) is not None:
            return True
        if sum(map(len, frames)) > MAX_UNKNOWN_SIZE:
            return self._drop("too_large")
        now = self.clock()
        if now >= self._second + 1.0:
            self._second, self._spent = now, 0
        if self._spent >= self.total_per_second:
            return self._drop("total_budget")
        entry = self._tracked.get(identity)
        if entry is None or now >= entry[0] + PER_PEER_WINDOW:
            entry = self._tracked[identity] = [now, 0]
            if len(self._tracked) > self.max_tracked:
                self._tracked.popitem(last=False)
        self._tracked.move_to_end(identity)
        if entry[1] >= PER_PEER:
            return self._drop("peer_budget")
        entry[1] += 1
        self._spent += 1
        return True

    def _drop(self, reason: str) -> bool:
        self.dropped[reason] += 1
        log.warning("dropped a message from a peer that has not handshaken (%s)", reason,
                    extra={"rate_key": ("gate", reason)})
        return False

    def __len__(self) -> int:
        return len(self._tracked)
