"""The listener's Prometheus metrics: tee packages and points counted, reports to the hub."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from actors.listener.hub_link import HubLink


class ListenerMetrics:
    """The listener's metric objects, registered in `registry` (a fresh one unless given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.packages = Counter("enodo_listener_tee_packages",
                                "Insert packages read from SiriDB's tee", registry=r)
        self.points = Counter("enodo_listener_points",
                              "Points of watched series counted from the tee", registry=r)
        self.reports = Counter("enodo_listener_count_reports",
                               "LISTENER_ADD_SERIE_COUNT messages sent to the hub", registry=r)

    def watch(self, link: HubLink) -> None:
        """Expose the session's own books (read at scrape time)."""
        self.registry.register(ListenerCollector(link))


class ListenerCollector(Collector):
    """What the hub session keeps: points acknowledged, pending, watched series, online."""

    def __init__(self, link: HubLink) -> None:
        self.link = link

    def collect(self) -> Iterator[Metric]:
        """Yield the current values (called on the metrics server's thread)."""
        link = self.link
        yield CounterMetricFamily("enodo_listener_points_delivered",
                                  "Points whose count the hub acknowledged",
                                  value=link.sent_points)
        yield GaugeMetricFamily("enodo_listener_pending_points",
                                "Points counted, not yet acknowledged by the hub",
                                value=_pending(link))
        yield GaugeMetricFamily("enodo_listener_watched_series", "Series the listener counts",
                                value=len(link.counter.watched()))
        yield GaugeMetricFamily("enodo_listener_hub_connected",
                                "1 while the listener has a session with the hub",
                                value=1 if link.online.is_set() else 0)


def _pending(link: HubLink) -> int:
    for _ in range(3):  # the loop may resize the dicts meanwhile: read again
        try:
            unacked = sum(sum(counts.values()) for _, counts in list(link.unacked.values()))
            return link.counter.pending_points + unacked
        except RuntimeError:
            continue
    return 0
