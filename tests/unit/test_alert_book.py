"""The alert book over a real store, delivering to a real local HTTP receiver."""

from __future__ import annotations

import time

import pytest

from actors.common.alert_outputs.webhook import signature
from actors.hub.alert_book import AlertBook
from actors.hub.store import Store
from protocol.alert_actions import AlertOutput, NewSilence
from protocol.alerts import AlertStatus, Severity
from protocol.errors import ProtocolError
from protocol.typed import convert
from scripts.alert_receiver import AlertReceiver
from tests.support.alert_book import add_output, fire, recorded, turn
from tests.support.waiting import wait_for


@pytest.fixture
def receiver():
    running = AlertReceiver(secret="s3cret").start()
    yield running
    running.stop()


@pytest.fixture
def book(tmp_path):
    books = []

    def make() -> AlertBook:
        books.append(AlertBook(Store(str(tmp_path / "hub"))))
        return books[-1]

    yield make
    for made in books:
        made.close()
        made.store.close()


def test_an_alert_is_sent_once_signed_and_its_resolve_follows(book, receiver):
    b = book()
    add_output(b, receiver.url)
    fire(b)
    fire(b)  # the same alert again: not sent again
    turn(b)
    fire(b, status=AlertStatus.RESOLVED)
    turn(b)
    wait_for(lambda: len(receiver.alerts) == 2, 10, "firing and resolved")
    first, second = receiver.alerts
    assert (first["status"], second["status"]) == ("firing", "resolved")
    assert first["version"] == 1 and first["series"] == "cpu" and first["kind"] == "anomaly"
    assert first["key"] == second["key"] and first["id"] != second["id"]
    assert receiver.refused == 0  # every signature checked out
    wait_for(lambda: all(d["state"] == "delivered" for d in recorded(b)), 10,
             "deliveries recorded as delivered")


def test_nothing_is_sent_before_its_turn_is_committed(book, receiver):
    b = book()
    add_output(b, receiver.url)
    b.tick(time.monotonic())
    fire(b)
    assert b.tick(time.monotonic()) <= time.monotonic()  # due again at once
    assert b.staged and receiver.posts == 0
    b.store.commit()
    b.tick(time.monotonic())
    assert not b.staged
    wait_for(lambda: len(receiver.alerts) == 1, 10, "the alert after the commit")


def test_escalation_is_sent_and_routing_and_silences_hold_back(book, receiver):
    b = book()
    add_output(b, receiver.url, series="cpu.*", min_severity="warning")
    b.add_silence(NewSilence(series="cpu.maint", ends_at=time.time() + 60))
    fire(b, "cpu.a")
    fire(b, "cpu.a", severity=Severity.CRITICAL)  # escalated: sent again
    fire(b, "disk.a", key="anomaly:disk.a:1")     # not this output's series
    fire(b, "cpu.b", severity=Severity.INFO, key="anomaly:cpu.b:1")  # below its severity
    fire(b, "cpu.maint", key="anomaly:cpu.maint:1")  # silenced
    turn(b)
    wait_for(lambda: len(receiver.alerts) == 2, 10, "the alert and its escalation")
    assert [(a["series"], a["severity"]) for a in receiver.alerts] == [
        ("cpu.a", "warning"), ("cpu.a", "critical")]
    states = {d["series"]: d["state"] for d in
              (dict(r, series=r["alert"]["series"]) for r in b.db.recent(10, None))}
    assert states["cpu.maint"] == "silenced"


def test_a_receiver_failing_three_times_still_gets_every_alert_in_order(book, receiver):
    receiver.fail = 3
    b = book()
    add_output(b, receiver.url)
    for n in range(3):
        fire(b, f"s{n}", key=f"anomaly:s{n}:1")
    turn(b)
    wait_for(lambda: len(receiver.alerts) == 3, 20, "every alert after the failures")
    assert [a["series"] for a in receiver.alerts] == ["s0", "s1", "s2"]
    assert receiver.posts == 6
    wait_for(lambda: sorted(d["attempts"] for d in recorded(b) if d["state"] == "delivered")
             == [1, 1, 4], 10, "attempts recorded")


def test_a_delivery_not_made_in_time_expires(book):
    b = book()
    add_output(b, "http://127.0.0.1:9/nothing-listens", expire_after=0.3, backoff=0.05,
               max_backoff=0.1, timeout=0.5)
    fire(b)
    turn(b)
    wait_for(lambda: [d["state"] for d in recorded(b)] == ["expired"], 10, "expired")


def test_pending_deliveries_are_sent_after_a_restart(book, receiver):
    first = book()
    add_output(first, receiver.url)
    fire(first)
    first.store.commit()   # recorded, never handed to a thread (the hub died here)
    first.store.close()
    second = book()
    second.tick(time.monotonic())
    wait_for(lambda: len(receiver.alerts) == 1, 10, "the alert after the restart")


def test_outputs_hide_their_secret_and_bad_ones_change_nothing(book, receiver):
    b = book()
    view = add_output(b, receiver.url.replace("http://", "http://user:pw@") + "?token=x")
    assert view["secret_set"] is True and "secret" not in view
    assert "pw" not in view["url"] and "token=x" not in view["url"]
    with pytest.raises(ProtocolError, match="exists"):
        add_output(b, receiver.url)
    with pytest.raises(ProtocolError, match="http"):
        add_output(b, "file:///etc/passwd", name="bad")
    assert [o["name"] for o in b.list_outputs()] == ["ops"]
    b.remove_output("ops")
    assert b.list_outputs() == []


def test_the_signature_is_hmac_sha256_of_the_body():
    # The value any HMAC-SHA256 library gives (`openssl dgst -sha256 -hmac k`).
    assert signature("k", b"{}") == (
        "sha256=add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff")


def test_an_apprise_output_notifies_through_the_library(book):
    # apprise's json:// service POSTs {"title", "message", "type", ...} to a plain HTTP server.
    receiver = AlertReceiver().start()
    try:
        b = book()
        host_path = receiver.url.split("://", 1)[1]
        b.add_output(convert({"name": "chat", "kind": "apprise", "urls": [f"json://{host_path}"],
                              "backoff": 0.05}, AlertOutput, "output"))
        fire(b, severity=Severity.CRITICAL)
        turn(b)
        wait_for(lambda: receiver.alerts, 10, "the notification")
        note = receiver.alerts[0]
        assert note["title"] == "[FIRING] critical: cpu" and note["type"] == "failure"
        assert "key: anomaly:cpu:1" in note["message"]
    finally:
        receiver.stop()
