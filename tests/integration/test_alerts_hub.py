"""A real hub delivers its alerts to a real local HTTP receiver and a real Alertmanager.

The alerts are the hub's own trouble (a series watched, no listener, no worker), made to
fire within a second (alert_grace); a listener handshaking resolves its alert.
"""

from __future__ import annotations

import collections
import signal
import time

import pytest

from protocol.types import MessageType
from scripts.alert_receiver import AlertReceiver
from tests.support.alertmanager import Alertmanager
from tests.support.hub import HubProcess, Peer
from tests.support.waiting import wait_for

#: Trouble fires after 0.3 s; peers stay online 15 s without heartbeats (these peers send none).
ENV = {"ENODO_HUB_ALERT_GRACE": "0.3", "ENODO_HUB_ALERT_CHECK_INTERVAL": "0.1",
       "ENODO_HUB_HEARTBEAT_INTERVAL": "5"}


@pytest.fixture
def receiver():
    running = AlertReceiver(secret="k3y").start()
    yield running
    running.stop()


@pytest.fixture
def hub(tmp_path):
    process = HubProcess(tmp_path, ENV).start()
    yield process
    process.stop(signal.SIGKILL)


def ok(answer) -> dict:
    assert answer.type is MessageType.RESPONSE_OK, answer.body
    return answer.body["data"]


def watch_a_series(hub: HubProcess, **output) -> None:
    with Peer(hub.address("control"), "ops", "client") as peer:
        peer.handshake()
        ok(peer.api("add_alert_output", **output))
        ok(peer.api("add_series", name="cpu"))


def seen(receiver: AlertReceiver) -> collections.Counter:
    return collections.Counter((a["key"], a["status"]) for a in receiver.alerts)


def test_alerts_arrive_once_signed_and_resolved_ones_resolve(hub, receiver):
    watch_a_series(hub, name="ops", kind="webhook", url=receiver.url, secret="k3y",
                   kinds=["system"])
    wait_for(lambda: seen(receiver)[("system:listener", "firing")], 10, "listener alert")
    with Peer(hub.address("control"), "l1", "listener") as listener:
        listener.handshake()
        wait_for(lambda: seen(receiver)[("system:listener", "resolved")], 10, "its resolve")
        with Peer(hub.address("control"), "ops", "client") as peer:
            peer.handshake()
            deliveries = ok(peer.api("alert_deliveries"))["deliveries"]
    assert seen(receiver) == {("system:listener", "firing"): 1, ("system:workers", "firing"): 1,
                              ("system:listener", "resolved"): 1}
    assert receiver.refused == 0  # every signature is the body's HMAC with the secret
    assert {d["state"] for d in deliveries} == {"delivered"}


def test_a_receiver_failing_three_times_then_recovering_gets_every_alert(hub, receiver):
    receiver.fail = 3
    watch_a_series(hub, name="ops", kind="webhook", url=receiver.url, secret="k3y",
                   backoff=0.1, kinds=["system"])
    wait_for(lambda: len(receiver.alerts) == 2, 20, "both alerts after three failures")
    assert seen(receiver) == {("system:listener", "firing"): 1, ("system:workers", "firing"): 1}
    assert receiver.posts == 5


def test_a_hub_killed_mid_delivery_delivers_after_its_restart(hub, receiver):
    receiver.delay = 60.0  # hold each POST: the hub dies while one is in flight
    watch_a_series(hub, name="ops", kind="webhook", url=receiver.url, secret="k3y",
                   backoff=0.1, kinds=["system"])
    wait_for(lambda: receiver.posts >= 1, 10, "a delivery in flight")
    with Peer(hub.address("control"), "ops", "client") as peer:  # the loop is not held
        peer.handshake()
        started = time.monotonic()
        outputs = ok(peer.api("list_alert_outputs"))["outputs"]
        assert [o["pending"] for o in outputs] == [2]
        assert time.monotonic() - started < 1.0
    hub.stop(signal.SIGKILL)
    receiver.fail = 1        # the POST in flight is not taken
    receiver.release.set()   # and answered now (to a dead hub)
    wait_for(lambda: receiver.fail == 0, 10, "the held POST refused")
    assert receiver.alerts == []
    hub.start()
    wait_for(lambda: len(receiver.alerts) == 2, 20, "both alerts after the restart")
    assert seen(receiver) == {("system:listener", "firing"): 1, ("system:workers", "firing"): 1}


def test_a_real_alertmanager_gets_firing_alerts_again_and_their_resolve(tmp_path, hub):
    am = Alertmanager(tmp_path).start()
    try:
        watch_a_series(hub, name="am", kind="alertmanager", url=am.url, kinds=["system"],
                       resend_interval=0.5)

        def listed() -> dict[str, dict]:
            return {a["labels"]["key"]: a for a in am.alerts()
                    if a["labels"].get("alertname") == "EnodoSystem"}

        firing = wait_for(lambda: len(listed()) == 2 and listed(), 15, "two alerts in it")
        labels = firing["system:listener"]["labels"]
        assert (labels["kind"], labels["severity"], labels["check"]) == (
            "system", "critical", "listener")
        assert firing["system:listener"]["status"]["state"] == "active"
        assert "no listener" in firing["system:listener"]["annotations"]["summary"]
        first_update = firing["system:workers"]["updatedAt"]
        wait_for(lambda: listed()["system:workers"]["updatedAt"] != first_update, 15,
                 "the firing alert sent again")
        with Peer(hub.address("control"), "l1", "listener") as listener:
            listener.handshake()
            wait_for(lambda: set(listed()) == {"system:workers"}, 15, "the listener's resolved")
    finally:
        am.stop()
