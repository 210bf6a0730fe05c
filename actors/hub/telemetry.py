"""The hub's Prometheus metrics: counters bumped on the loop, gauges read at scrape time.

What the loop already keeps (series, jobs by state, peers, late and forged results, the
SiriDB link's state, alerts firing, deliveries unfinished) is read by `HubCollector` when
Prometheus scrapes, on the metrics server's thread: the loop pays nothing for it. Only what
exists nowhere else (points per listener, jobs done by kind and model, durations, alert
deliveries by outcome) is counted where it happens.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from actors.common.telemetry import SECONDS_BUCKETS
from actors.hub.alert_telemetry import alert_families

if TYPE_CHECKING:
    from actors.hub.state import HubState

#: A hub turn is usually well under a millisecond; a slow commit shows in the upper buckets.
TURN_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                0.25, 0.5, 1.0, 5.0)
JOB_STATES = ("queued", "dispatched", "running")
LINK_STATES = ("not_configured", "connecting", "connected", "failing")


class HubMetrics:
    """The hub's metric objects, registered in `registry` (a fresh one unless given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        # listener -> [reports, points]: plain ints on the hottest path (a counts message),
        # turned into counters when scraped (HubCollector).
        self.listeners: dict[str, list[int]] = {}
        self.jobs_done = Counter(
            "enodo_hub_jobs_done", "Jobs ended, by kind, model and outcome (ok or failed)",
            ["kind", "model", "outcome"], registry=r)
        self.job_duration = Histogram(
            "enodo_hub_job_duration_seconds",
            "Seconds from sending a job to a worker to its result, by kind and model",
            ["kind", "model"], buckets=SECONDS_BUCKETS, registry=r)
        self.lease_expiries = Counter(
            "enodo_hub_lease_expiries", "Job leases that ended without an answer, by kind",
            ["kind"], registry=r)
        self.retries = Counter(
            "enodo_hub_job_retries", "Jobs queued again after a soft failure, by kind",
            ["kind"], registry=r)
        self.anomaly_events = Counter(
            "enodo_hub_anomaly_events_opened", "Anomaly events seen for the first time",
            registry=r)
        self.anomalies = Counter(
            "enodo_hub_anomalies", "Anomalous points stored (each once)", registry=r)
        self.siridb_query = Histogram(
            "enodo_hub_siridb_query_duration_seconds",
            "Seconds per query of the hub's SiriDB link (health check, count, list)",
            ["query"], buckets=SECONDS_BUCKETS, registry=r)
        self.siridb_errors = Counter(
            "enodo_hub_siridb_query_errors", "Failed queries of the hub's SiriDB link",
            ["query"], registry=r)
        self.loop_turn = Histogram(
            "enodo_hub_loop_turn_seconds",
            "Seconds of work per loop turn (handlers, commit, sends; not the poll's wait)",
            buckets=TURN_BUCKETS, registry=r)
        # The loop thread's CPU per turn: on a crowded machine a turn's seconds grow while
        # the hub waits for a core; its CPU seconds say what the hub itself costs.
        self.loop_turn_cpu = Histogram(
            "enodo_hub_loop_turn_cpu_seconds",
            "CPU seconds of the loop's thread per turn (the turn's own work, not its waits)",
            buckets=TURN_BUCKETS, registry=r)

    def listener_report(self, listener: str, points: int) -> None:
        """Count one counts message of a listener (the hub's hottest path: two int adds).

        prometheus_client's labels() and inc() cost 2-3 us per message here, about 5 % of
        the hub's CPU per counts message; these adds cost a tenth of that.
        """
        tally = self.listeners.get(listener)
        if tally is None:
            tally = self.listeners[listener] = [0, 0]
        tally[0] += 1
        tally[1] += points

    def watch(self, state: HubState) -> None:
        """Expose what the hub already keeps, read at scrape time."""
        self.registry.register(HubCollector(state))


def _snapshot(read: Callable[[], Any], tries: int = 3) -> Any:
    """read() from the scrape thread; a container the loop resized meanwhile is read again."""
    for _ in range(tries - 1):
        try:
            return read()
        except RuntimeError:  # "changed size during iteration"
            continue
    return read()


class HubCollector(Collector):
    """Gauges and counters from the hub's own books, computed when scraped."""

    def __init__(self, state: HubState) -> None:
        self.state = state
        self.scheduler = state.scheduler

    def collect(self) -> Iterator[Metric]:
        """Yield the current values (called on the metrics server's thread)."""
        yield GaugeMetricFamily("enodo_hub_watched_series", "Series the hub watches",
                                value=len(self.state.series))
        # list() of a dict's values is one C call: atomic under the GIL.
        jobs = _snapshot(lambda: list(self.scheduler.active.values()))
        by_state = Tally(job.status for job in jobs)
        gauge = GaugeMetricFamily("enodo_hub_jobs", "Active jobs by state", labels=["state"])
        for name in JOB_STATES:
            gauge.add_metric([name], by_state.get(name, 0))
        yield gauge
        peers = _snapshot(lambda: [p.client_type.value for p in self.state.peers])
        gauge = GaugeMetricFamily("enodo_hub_peers", "Handshaken peers online by type",
                                  labels=["type"])
        for kind, n in sorted(Tally(peers).items()):
            gauge.add_metric([kind], n)
        yield gauge
        tallies = _snapshot(lambda: [(k, list(v)) for k, v in self.state.metrics.listeners.items()])
        reports = CounterMetricFamily("enodo_hub_count_reports",
                                      "LISTENER_ADD_SERIE_COUNT messages taken, per listener",
                                      labels=["listener"])
        points = CounterMetricFamily("enodo_hub_points_reported",
                                     "Points listeners reported counted, per listener",
                                     labels=["listener"])
        for listener, (n_reports, n_points) in sorted(tallies):
            reports.add_metric([listener], n_reports)
            points.add_metric([listener], n_points)
        yield reports
        yield points
        yield CounterMetricFamily("enodo_hub_late_results",
                                  "Job messages for a dispatch that was over, dropped",
                                  value=self.scheduler.late)
        yield CounterMetricFamily("enodo_hub_forged_results",
                                  "Job messages without a valid session MAC, dropped",
                                  value=self.scheduler.forged.count)
        status = self.state.siridb.status()
        yield GaugeMetricFamily("enodo_hub_siridb_connected",
                                "1 while the hub's SiriDB link is connected",
                                value=1 if status.get("connected") else 0)
        gauge = GaugeMetricFamily("enodo_hub_siridb_link_state",
                                  "The SiriDB link's state (1 for the current one)",
                                  labels=["state"])
        for name in LINK_STATES:
            gauge.add_metric([name], 1 if status.get("status") == name else 0)
        yield gauge
        yield from alert_families(self.state.alerts, _snapshot)
