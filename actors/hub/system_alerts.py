"""Enodo's own trouble as alerts: no listener online, every worker gone, SiriDB
unreachable, the job queue older than a limit.

A loop timer looks every `interval` seconds; a trouble fires once it has lasted `grace`
seconds (a hub just started, or a peer reconnecting, is not trouble) and resolves when it
ends. A series whose jobs fail for good is alerted by the job book (alert_sources.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from protocol.alerts import Alert, AlertKind, AlertStatus, Severity
from protocol.types import ClientType

if TYPE_CHECKING:
    from actors.hub.state import HubState

#: Every check's alert key: on its first look the watch resolves those not in trouble
#: (one may have fired before a restart).
CHECKS = ("listener", "workers", "siridb", "job_queue")


class SystemWatch:
    """Checks the hub's peers, SiriDB link and job queue; alerts on lasting trouble."""

    def __init__(self, state: HubState, queue_age: Callable[[float], float], *,
                 grace: float, max_queue_age: float, interval: float) -> None:
        self.state = state
        self.queue_age = queue_age
        self.grace = grace
        self.max_queue_age = max_queue_age
        self.interval = interval
        self.since: dict[str, float] = {}
        self.fired: set[str] = set()
        self._looked = False
        self._next = 0.0

    def troubles(self) -> dict[str, tuple[Severity, str, dict]]:
        """Check name -> (severity, summary, details) of what is wrong now."""
        state, found = self.state, {}
        watching = len(state.series) > 0
        if watching and not state.peers.of_type(ClientType.LISTENER):
            found["listener"] = (Severity.CRITICAL, "no listener online: new points are not "
                                 "counted", {"series": len(state.series)})
        if watching and not state.peers.of_type(ClientType.WORKER):
            found["workers"] = (Severity.CRITICAL, "no worker online: no job runs", {})
        siridb = state.siridb.status()
        if siridb.get("status") == "failing":
            found["siridb"] = (Severity.CRITICAL, f"SiriDB unreachable: {siridb.get('error')}",
                               {"host": siridb.get("host"), "port": siridb.get("port")})
        age = self.queue_age(state.wall())
        if age > self.max_queue_age:
            found["job_queue"] = (Severity.WARNING, f"the oldest queued job has waited {age:.0f}"
                                  f" s (limit {self.max_queue_age:g} s)", {"age": age})
        return found

    def tick(self, now: float) -> float:
        """A loop timer: look when due; when to be called again."""
        if now < self._next:
            return self._next
        self._next = now + self.interval
        found = self.troubles()
        wall = self.state.wall()
        if not self._looked:  # resolve what may have fired before a restart and is over
            self.fired, self._looked = {c for c in CHECKS if c not in found}, True
        for check in CHECKS:
            if check in found:
                since = self.since.setdefault(check, now)
                if now - since >= self.grace and check not in self.fired:
                    severity, summary, details = found[check]
                    self._notify(check, AlertStatus.FIRING, severity, summary, details, wall)
            else:
                self.since.pop(check, None)
                if check in self.fired:
                    self._notify(check, AlertStatus.RESOLVED, Severity.INFO,
                                 f"{check}: trouble over", {}, wall)
        return self._next

    def _notify(self, check: str, status: AlertStatus, severity: Severity, summary: str,
                details: dict, wall: float) -> None:
        if status is AlertStatus.FIRING:
            self.fired.add(check)
        else:
            self.fired.discard(check)
        self.state.alerts.notify(Alert(
            key=f"system:{check}", kind=AlertKind.SYSTEM, status=status, series="",
            severity=severity, at=wall, summary=summary, labels={"check": check},
            details=details))
