"""The alert book's metrics, read at scrape time (on the metrics server's thread).

Deliveries by output and outcome (ints the loop bumps where it records outcomes), the
deliveries each output's thread holds unfinished (two ints per thread, see
alert_delivery.py), and the alerts firing now by kind and severity (the book's `firing`
dict). Nothing here touches SQLite: the store's connection belongs to the loop's thread.
A hub without an alert book (NoAlerts) exports the families empty.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from actors.hub.alert_book import OUTCOMES, AlertBook
from protocol.alerts import AlertKind, Severity


def alert_families(alerts: object, snapshot: Callable[[Callable[[], Any]], Any]
                   ) -> Iterator[Metric]:
    """The alert metric families of a hub's sink (empty unless it is an AlertBook).

    snapshot: reads a container the loop may resize meanwhile (telemetry._snapshot).
    """
    book = alerts if isinstance(alerts, AlertBook) else None
    deliveries = CounterMetricFamily(
        "enodo_hub_alert_deliveries",
        "Delivery tries recorded, by output and outcome (delivered; failed: to be retried; "
        "rejected: refused for good by the receiver; expired)", labels=["output", "outcome"])
    pending = GaugeMetricFamily(
        "enodo_hub_alert_deliveries_pending",
        "Deliveries handed to an output's thread and not yet finished", labels=["output"])
    firing = GaugeMetricFamily("enodo_hub_alerts_firing", "Alerts firing now, by kind and "
                               "severity", labels=["kind", "severity"])
    if book is not None:
        counts = dict(snapshot(lambda: list(book.outcome_counts.items())))
        names = snapshot(lambda: list(book.outputs))
        for name in names:  # every outcome of a current output, zero until it happens
            for outcome in OUTCOMES:
                counts.setdefault((name, outcome), 0)
        for (name, outcome), n in sorted(counts.items()):
            deliveries.add_metric([name, outcome], n)
        for name, worker in sorted(snapshot(lambda: list(book.workers.items()))):
            pending.add_metric([name], worker.unfinished)
        # Each record is replaced whole by the loop, never changed in place.
        records = snapshot(lambda: list(book.firing.values()))
        by_kind = Tally((r["alert"]["kind"], r["alert"]["severity"]) for r in records)
        for kind in AlertKind:
            for severity in Severity:
                firing.add_metric([str(kind), str(severity)],
                                  by_kind.get((str(kind), str(severity)), 0))
    yield deliveries
    yield pending
    yield firing
