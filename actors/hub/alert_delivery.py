"""Delivery threads: one per output, so that a receiver down or slow never holds the
hub's loop, nor another output.

The loop hands each thread deliveries already committed to the store (alert_book.py);
the thread sends them in order, retries a failed send with backoff until it is made or
the delivery expires (output.expire_after after it was recorded), gives a delivery up at
once when the receiver refused it for good (rejected: a permanent SendError, such as an
HTTP 401 or 400), keeps to the output's rate limit (a send over the limit waits), and
reports each outcome on a queue the loop reads and records. Alertmanager outputs also
send their firing alerts again every resend_interval.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from actors.common.alert_outputs import Outgoing, Sender, SendError
from actors.hub.alert_routing import RateLimit, backoff
from protocol.alert_actions import AlertOutput
from protocol.alerts import AlertStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How one delivery went: state is pending (a failed try), delivered, rejected or expired."""

    output: str
    delivery_id: int
    state: str
    attempts: int
    error: str | None


@dataclass
class _Pending:
    item: Outgoing
    created_at: float
    attempts: int = 0


class OutputWorker:
    """The delivery thread of one output."""

    def __init__(self, output: AlertOutput, sender: Sender, outcomes: queue.SimpleQueue,
                 firing: list[Outgoing], wall: Callable[[], float] = time.time) -> None:
        self.output = output
        self.sender = sender
        self.outcomes = outcomes
        self.wall = wall
        self.inbox: queue.SimpleQueue[tuple[Outgoing, float]] = queue.SimpleQueue()
        self.firing = {item.alert.key: item for item in firing}
        # Deliveries put (by the loop) and finished (by this thread): each int is written by
        # one thread only; their difference is what the output has not finished yet.
        self.taken = 0
        self.finished = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"alerts-{output.name}",
                                       daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def put(self, item: Outgoing, created_at: float) -> None:
        """Queue one committed delivery (from the loop's thread)."""
        self.taken += 1
        self.inbox.put((item, created_at))

    @property
    def unfinished(self) -> int:
        """Deliveries put and not yet delivered, rejected or expired (from any thread)."""
        return max(0, self.taken - self.finished)

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to end (a send in progress ends by its own timeout)."""
        self.stopping.set()
        self.inbox.put(None)  # type: ignore[arg-type] - wakes a thread waiting on the inbox
        self.thread.join(timeout)

    def _run(self) -> None:
        pending: deque[_Pending] = deque()
        limit = RateLimit(self.output.rate_limit, time.monotonic())
        next_resend = time.monotonic() + self.output.resend_interval
        while not self.stopping.is_set():
            resend_in = max(0.0, next_resend - time.monotonic())
            self._take(pending, resend_in if self.sender.resends else None)
            if self.stopping.is_set():
                return
            if self.sender.resends and time.monotonic() >= next_resend:
                self._resend()
                next_resend = time.monotonic() + self.output.resend_interval
            if not pending:
                continue
            delay = limit.wait(time.monotonic()) or self._try(pending)
            if delay > 0:
                self.stopping.wait(delay)

    def _take(self, pending: deque[_Pending], wait: float | None) -> None:
        """Move queued deliveries to pending; block up to wait seconds when none is pending."""
        try:
            first = self.inbox.get(block=not pending, timeout=wait if not pending else None)
        except queue.Empty:
            return
        while first is not None:
            item, created_at = first
            pending.append(_Pending(item, created_at))
            try:
                first = self.inbox.get_nowait()
            except queue.Empty:
                return

    def _try(self, pending: deque[_Pending]) -> float:
        """Send the oldest pending delivery; the seconds to wait before the next try."""
        head = pending[0]
        if self.wall() - head.created_at > self.output.expire_after:
            self._give_up(pending, "expired",
                          f"not delivered within {self.output.expire_after:g} s")
            return 0.0
        head.attempts += 1
        alert = head.item.alert
        last = self.firing.get(alert.key)
        replaces = last if last is not None and last.alert.severity != alert.severity else None
        try:
            self.sender.send(head.item, replaces)
        except SendError as exc:
            if exc.permanent:
                log.warning("alert output %s: delivery %d rejected, not retried: %s",
                            self.output.name, head.item.delivery_id, exc,
                            extra={"rate_key": ("alert_reject", self.output.name)})
                self._give_up(pending, "rejected", str(exc))
                return 0.0
            wait = backoff(head.attempts, self.output.backoff, self.output.max_backoff)
            log.warning("alert output %s: delivery %d failed (try %d, next in %.1f s): %s",
                        self.output.name, head.item.delivery_id, head.attempts, wait, exc,
                        extra={"rate_key": ("alert_send", self.output.name)})
            self._report(head, "pending", str(exc))
            return wait
        except Exception as exc:  # noqa: BLE001 - a sender's bug must not end the thread
            log.exception("alert output %s: sender failed", self.output.name)
            self._report(head, "pending", f"internal error: {exc!r}")
            return backoff(head.attempts, self.output.backoff, self.output.max_backoff)
        pending.popleft()
        if alert.status == AlertStatus.FIRING:
            self.firing[alert.key] = head.item
        else:
            self.firing.pop(alert.key, None)
        self.finished += 1
        self._report(head, "delivered", None)
        return 0.0

    def _give_up(self, pending: deque[_Pending], state: str, error: str) -> None:
        """End the oldest delivery without it made (rejected or expired)."""
        head = pending.popleft()
        if head.item.alert.status == AlertStatus.RESOLVED:
            # Over in the hub: not re-sent as firing (an Alertmanager resolves it by timeout).
            self.firing.pop(head.item.alert.key, None)
        self.finished += 1
        self._report(head, state, error)

    def _resend(self) -> None:
        try:
            self.sender.resend(list(self.firing.values()))
        except SendError as exc:
            log.warning("alert output %s: re-sending %d firing alerts failed: %s",
                        self.output.name, len(self.firing), exc,
                        extra={"rate_key": ("alert_resend", self.output.name)})

    def _report(self, head: _Pending, state: str, error: str | None) -> None:
        self.outcomes.put(Outcome(self.output.name, head.item.delivery_id, state,
                                  head.attempts, error))
