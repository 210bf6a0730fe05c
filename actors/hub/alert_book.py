"""The hub's alert book: every alert change recorded, routed and handed to delivery.

`notify` (the AlertSink every source calls, on the loop's thread) deduplicates on the
alert's key, status and severity, picks the outputs whose routing takes it and no silence
holds back, and writes one delivery row per output in the turn's transaction. `tick` (a
loop timer) hands the rows of committed turns to the outputs' delivery threads
(alert_delivery.py) and records the outcomes they report. At start every delivery still
pending in the store is handed out again: nothing recorded is lost to a restart or a
kill -9 (a send made just before a kill may be made twice; payloads carry an id).
"""

from __future__ import annotations

import logging
import queue
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from actors.common.alert_outputs import Outgoing, make_sender
from actors.hub.alert_delivery import Outcome, OutputWorker
from actors.hub.alert_routing import check_output, compile_pattern, silenced, takes
from actors.hub.alert_store import PENDING, AlertStore
from actors.hub.store import Store
from protocol.alert_actions import AlertOutput, NewSilence
from protocol.alerts import Alert, AlertStatus, Severity
from protocol.errors import ErrorCode, ProtocolError

log = logging.getLogger(__name__)
#: Seconds between trims of the finished deliveries.
TRIM_INTERVAL = 60.0
#: How a try of a delivery ends, as counted: failed is a failed try that will be retried.
OUTCOMES = ("delivered", "failed", "rejected", "expired")


class AlertBook:
    """Records alert changes and owns the outputs, their threads and the silences."""

    def __init__(self, store: Store, wall: Callable[[], float] = time.time) -> None:
        self.store = store
        self.db = AlertStore(store)
        self.wall = wall
        self.outputs = {o["name"]: msgspec.convert(o, AlertOutput) for o in
                        self.db.load("alert_outputs")}
        self.silences = {s["id"]: s for s in self.db.load("alert_silences")}
        #: key -> {"alert", "started_at", "outputs"} of every alert firing now.
        self.firing = {r["alert"]["key"]: r for r in self.db.load("alerts_firing")}
        self.workers: dict[str, OutputWorker] = {}
        self.outcomes: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        #: (output, outcome) -> outcomes recorded since start, outcome one of OUTCOMES:
        #: plain ints on the loop's thread, read by the metrics' scrape (telemetry.py).
        self.outcome_counts: dict[tuple[str, str], int] = {}
        #: (commit number when written, output, delivery id, alert, started_at, created_at):
        #: handed to the output's thread once that commit is made.
        self.staged: list[tuple[int, str, int, Alert, float, float]] = []
        self.hub_id = ""
        self.started = False
        self._next_trim = 0.0

    # the sink -------------------------------------------------------------
    def notify(self, alert: Alert) -> None:
        """Record an alert change and the deliveries it makes (sent once committed)."""
        previous = self.firing.get(alert.key)
        now = self.wall()
        if alert.status == AlertStatus.FIRING:
            if previous is not None and previous["alert"]["severity"] == alert.severity:
                return  # the same alert firing again: already sent
            record = alert.to_dict()
            started = previous["started_at"] if previous else alert.at
            held = self._silenced(alert, now)
            routed = [name for name, out in self.outputs.items() if takes(out, alert)]
            targets = [n for n in routed if not held] + [
                n for n in (previous or {}).get("outputs", []) if n not in routed]
            self.firing[alert.key] = {"alert": record, "started_at": started, "outputs": targets}
            self.db.put("alerts_firing", alert.key, self.firing[alert.key])
            if held:
                for name in routed:
                    self.db.add_delivery(name, alert.key, record, started, "silenced", now)
        else:
            if previous is None:
                return  # nothing fired: nothing to resolve
            started, targets = previous["started_at"], previous["outputs"]
            # The labels an Alertmanager knows the alert by: those it fired with.
            alert = msgspec.structs.replace(alert, severity=Severity(previous["alert"]["severity"]),
                                            labels=previous["alert"].get("labels", {}))
            record = alert.to_dict()
            del self.firing[alert.key]
            self.db.delete("alerts_firing", alert.key)
        for name in targets:
            if name in self.outputs:
                delivery_id = self.db.add_delivery(name, alert.key, record, started, PENDING, now)
                self.staged.append((self.store.commits, name, delivery_id, alert, started, now))

    def _silenced(self, alert: Alert, now: float) -> bool:
        return silenced(((s["series"], s["kinds"], s["ends_at"]) for s in self.silences.values()),
                        alert, now)

    # the loop's timer -------------------------------------------------------
    def tick(self, now: float) -> float:
        """Hand committed deliveries out, record outcomes; when to be called again."""
        if not self.started:
            self._start()
        committed = self.store.commits
        ready = [s for s in self.staged if s[0] < committed]
        if ready:
            self.staged = [s for s in self.staged if s[0] >= committed]
            for _, name, delivery_id, alert, started, created_at in ready:
                worker = self.workers.get(name)
                if worker is not None:
                    worker.put(Outgoing(delivery_id, alert, started, self.hub_id), created_at)
        wall = self.wall()
        while True:
            try:
                outcome = self.outcomes.get_nowait()
            except queue.Empty:
                break
            self.db.set_delivery(outcome.delivery_id, outcome.state, outcome.attempts,
                                 outcome.error, wall)
            counted = (outcome.output, "failed" if outcome.state == PENDING else outcome.state)
            self.outcome_counts[counted] = self.outcome_counts.get(counted, 0) + 1
        if now >= self._next_trim:
            self.db.trim()
            self._next_trim = now + TRIM_INTERVAL
        return now if self.staged else now + 0.5

    def _start(self) -> None:
        """First tick: start a thread per output and resume the deliveries pending."""
        self.hub_id = self.store.get_meta("hub_id") or "hub"
        self.started = True
        for output in self.outputs.values():
            self._start_worker(output)
        staged = {s[2] for s in self.staged}  # written this turn: sent once committed
        for row in self.db.pending():
            worker = self.workers.get(row["output"])
            if worker is not None and row["id"] not in staged:
                alert = msgspec.convert(row["alert"], Alert)
                worker.put(Outgoing(row["id"], alert, row["started_at"], self.hub_id),
                           row["created_at"])
        log.info("alerts: %d outputs, %d alerts firing, %d deliveries pending",
                 len(self.outputs), len(self.firing), sum(self.db.pending_counts().values()))

    def _start_worker(self, output: AlertOutput) -> None:
        try:
            sender = make_sender(output)
        except ValueError as exc:
            log.error("alert output %s cannot deliver: %s", output.name, exc)
            return
        # What the output took before a restart (re-sent by an Alertmanager output): not
        # the alerts it refused or never got in time.
        refused = self.db.refused(output.name)
        firing = [Outgoing(0, msgspec.convert(r["alert"], Alert), r["started_at"], self.hub_id)
                  for key, r in self.firing.items()
                  if output.name in r["outputs"] and key not in refused]
        worker = OutputWorker(output, sender, self.outcomes, firing, self.wall)
        self.workers[output.name] = worker
        worker.start()

    def close(self) -> None:
        """Stop every delivery thread (what they did not send stays pending in the store)."""
        for worker in self.workers.values():
            worker.stop()
        self.workers.clear()

    # management (the REST actions) -------------------------------------------
    def add_output(self, output: AlertOutput) -> dict[str, Any]:
        """Add an output (used from the next alert on); CONFLICT or INVALID when it cannot be."""
        if output.name in self.outputs:
            raise ProtocolError(ErrorCode.CONFLICT, f"alert output {output.name!r} exists")
        try:
            check_output(output)
            make_sender(output)
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID, f"alert output: {exc}") from None
        self.outputs[output.name] = output
        self.db.put("alert_outputs", output.name, output.to_dict())
        if self.started:
            self._start_worker(output)
        return self.view(output)

    def remove_output(self, name: str) -> None:
        """Delete an output; its pending deliveries are dropped."""
        if self.outputs.pop(name, None) is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"alert output {name!r} not found")
        self.db.delete("alert_outputs", name)
        self.db.drop_pending(name, "output removed", self.wall())
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.stop(timeout=0.0)

    def view(self, output: AlertOutput, pending: int = 0) -> dict[str, Any]:
        """An output as served: no secret, no credentials in its URLs."""
        data = {k: v for k, v in output.to_dict().items() if k not in ("secret", "url", "urls")}
        data.update(secret_set=bool(output.get("secret")), pending=pending,
                    kinds=[str(k) for k in output.kinds], series=output.series,
                    min_severity=str(output.min_severity))
        for key in ("rate_limit", "timeout", "backoff", "max_backoff", "expire_after",
                    "resend_interval"):
            data[key] = getattr(output, key)
        if output.get("url"):
            data["url"] = _masked(output.url, output.kind == "apprise")
        if output.get("urls"):
            data["urls"] = [_masked(u, True) for u in output.urls]
        return data

    def list_outputs(self) -> list[dict[str, Any]]:
        """Every output as served, with its pending deliveries."""
        counts = self.db.pending_counts()
        return [self.view(o, counts.get(n, 0)) for n, o in sorted(self.outputs.items())]

    def add_silence(self, new: NewSilence) -> dict[str, Any]:
        """Add a silence; INVALID for a bad pattern or an end in the past."""
        try:
            compile_pattern(new.series)
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID, f"silence: {exc}") from None
        now = self.wall()
        if new.ends_at <= now:
            raise ProtocolError(ErrorCode.INVALID, "silence: 'ends_at' is in the past")
        silence = {"id": uuid.uuid4().hex[:12], "series": new.series, "ends_at": new.ends_at,
                   "kinds": [str(k) for k in new.kinds], "comment": new.comment,
                   "created_at": now}
        self.silences[silence["id"]] = silence
        self.db.put("alert_silences", silence["id"], silence)
        return {**silence, "active": True}

    def list_silences(self) -> list[dict[str, Any]]:
        """Silences not yet ended (ended ones are forgotten here)."""
        now = self.wall()
        for ended in [i for i, s in self.silences.items() if s["ends_at"] <= now]:
            del self.silences[ended]
            self.db.delete("alert_silences", ended)
        return [{**s, "active": True} for s in self.silences.values()]

    def remove_silence(self, silence_id: str) -> None:
        """End a silence now."""
        if self.silences.pop(silence_id, None) is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"silence {silence_id!r} not found")
        self.db.delete("alert_silences", silence_id)


def _masked(url: str, hide_path: bool) -> str:
    """A URL without its credentials: userinfo and query hidden; apprise keeps the scheme."""
    scheme, _, rest = url.partition("://")
    if hide_path:
        return f"{scheme}://***"
    host_path, _, query = rest.partition("?")
    host, slash, path = host_path.partition("/")
    host = ("***@" + host.rsplit("@", 1)[1]) if "@" in host else host
    return f"{scheme}://{host}{slash}{path}" + ("?***" if query else "")
