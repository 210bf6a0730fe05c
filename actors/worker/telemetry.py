"""The worker's Prometheus metrics: jobs run by kind, model and outcome, their durations.

(`actors/worker/metrics.py` is something else: forecast accuracy measures.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from actors.common.telemetry import SECONDS_BUCKETS

if TYPE_CHECKING:
    from actors.common.session_poll import PollSession


def metrics_port(base: int, id_suffix: str | None) -> int:
    """The port of worker `--id N`: base + N, so the workers of one host differ (0 stays off)."""
    if base == 0 or id_suffix is None or not id_suffix.isdigit():
        return base
    return base + int(id_suffix)


class WorkerMetrics:
    """The worker's metric objects, registered in `registry` (a fresh one unless given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.jobs = Counter(
            "enodo_worker_jobs", "Jobs run, by kind, model and outcome "
            "(ok, failed, timeout, crashed)", ["kind", "model", "outcome"], registry=r)
        self.job_duration = Histogram(
            "enodo_worker_job_duration_seconds",
            "Seconds from the model child taking a job to its end (reads, model, writes)",
            ["kind", "model"], buckets=SECONDS_BUCKETS, registry=r)
        self.model_seconds = Histogram(
            "enodo_worker_model_fit_seconds",
            "Seconds in the model's own train, fit or forecast call, by kind and model",
            ["kind", "model"], buckets=SECONDS_BUCKETS, registry=r)
        self.busy = Gauge("enodo_worker_busy", "1 while the worker runs a job", registry=r)

    def job_ended(self, kind: str, model: str, outcome: str, seconds: float | None,
                  model_seconds: float | None = None) -> None:
        """Count one job's end and its durations (None: not measured)."""
        self.jobs.labels(kind, model, outcome).inc()
        if seconds is not None:
            self.job_duration.labels(kind, model).observe(max(0.0, seconds))
        if model_seconds is not None:
            self.model_seconds.labels(kind, model).observe(max(0.0, model_seconds))

    def watch(self, link: PollSession) -> None:
        """Expose whether the hub session is up (read at scrape time)."""
        self.registry.register(_SessionCollector(link))


class _SessionCollector(Collector):
    def __init__(self, link: PollSession) -> None:
        self.link = link

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("enodo_worker_hub_connected",
                                "1 while the worker has a session with the hub",
                                value=1 if self.link.session_key is not None else 0)
