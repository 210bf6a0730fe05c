"""The hub's alert metrics, scraped from its registry while a real receiver answers."""

from __future__ import annotations

import time

import pytest

from protocol.alerts import AlertStatus, Severity
from scripts.alert_receiver import AlertReceiver
from tests.support.alert_book import add_output, fire, turn
from tests.support.hub_state import make_state
from tests.support.waiting import wait_for


@pytest.fixture
def receiver():
    running = AlertReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def hub(tmp_path, clock):
    state = make_state(tmp_path, clock=clock, alerts=True)
    state.metrics.watch(state)
    state.alerts.tick(time.monotonic())  # started: threads start as outputs are added
    yield state
    state.alerts.close()


def sample(state, name: str, **labels: str) -> float | None:
    """The value scraped now, after the loop has recorded the outcomes reported so far."""
    state.alerts.tick(time.monotonic())
    return state.metrics.registry.get_sample_value(name, labels)


def deliveries(state, outcome: str) -> float | None:
    return sample(state, "enodo_hub_alert_deliveries_total", output="ops", outcome=outcome)


def test_deliveries_pending_delivered_failed_and_rejected_are_counted(hub, receiver):
    receiver.answers.extend([503, 401])  # the first alert: failed once, then rejected
    receiver.delay = 30.0                 # every answer held until released
    add_output(hub.alerts, receiver.url)
    for outcome in ("delivered", "failed", "rejected", "expired"):
        assert deliveries(hub, outcome) == 0
    assert sample(hub, "enodo_hub_alert_deliveries_pending", output="ops") == 0
    fire(hub.alerts, "a", key="anomaly:a:1")
    fire(hub.alerts, "b", key="anomaly:b:1", severity=Severity.CRITICAL)
    turn(hub.alerts)
    assert sample(hub, "enodo_hub_alert_deliveries_pending", output="ops") == 2
    assert sample(hub, "enodo_hub_alerts_firing", kind="anomaly", severity="warning") == 1
    assert sample(hub, "enodo_hub_alerts_firing", kind="anomaly", severity="critical") == 1
    assert sample(hub, "enodo_hub_alerts_firing", kind="rule", severity="info") == 0

    receiver.release.set()
    wait_for(lambda: deliveries(hub, "delivered") == 1, 10, "b delivered")
    assert (deliveries(hub, "failed"), deliveries(hub, "rejected")) == (1, 1)
    assert deliveries(hub, "expired") == 0
    assert sample(hub, "enodo_hub_alert_deliveries_pending", output="ops") == 0

    fire(hub.alerts, "b", key="anomaly:b:1", status=AlertStatus.RESOLVED)
    turn(hub.alerts)
    assert sample(hub, "enodo_hub_alerts_firing", kind="anomaly", severity="critical") == 0
    assert sample(hub, "enodo_hub_alerts_firing", kind="anomaly", severity="warning") == 1
    wait_for(lambda: deliveries(hub, "delivered") == 2, 10, "the resolve delivered")


def test_a_delivery_given_up_after_expire_after_is_counted_expired(hub, clock):
    add_output(hub.alerts, "http://127.0.0.1:9/nothing-listens", timeout=0.5, backoff=0.05,
               max_backoff=0.05, expire_after=60)
    fire(hub.alerts)
    turn(hub.alerts)
    wait_for(lambda: deliveries(hub, "failed") >= 1, 10, "a failed try")
    assert sample(hub, "enodo_hub_alert_deliveries_pending", output="ops") == 1
    clock.now += 61  # the hub's wall clock: the delivery is now older than expire_after
    wait_for(lambda: deliveries(hub, "expired") == 1, 10, "expired")
    assert sample(hub, "enodo_hub_alert_deliveries_pending", output="ops") == 0
    assert deliveries(hub, "delivered") == deliveries(hub, "rejected") == 0


def test_a_hub_without_an_alert_book_exports_the_families_empty(tmp_path):
    state = make_state(tmp_path)
    state.metrics.watch(state)
    families = {f.name: f for f in state.metrics.registry.collect()}
    for name in ("enodo_hub_alert_deliveries", "enodo_hub_alert_deliveries_pending",
                 "enodo_hub_alerts_firing"):
        assert families[name].samples == []
