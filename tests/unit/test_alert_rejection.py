"""A receiver's permanent refusal (4xx) ends a delivery at once; "try later" is retried.

Every test sends to a real local HTTP receiver (scripts/alert_receiver.py) told which
statuses to answer first.
"""

from __future__ import annotations

import pytest

from actors.common.alert_outputs.http import is_permanent
from actors.hub.alert_book import AlertBook
from actors.hub.store import Store
from protocol.alert_actions import AlertOutput
from protocol.alerts import AlertStatus
from protocol.typed import convert
from scripts.alert_receiver import AlertReceiver
from tests.support.alert_book import add_output, fire, recorded, turn
from tests.support.waiting import wait_for


@pytest.fixture
def receiver():
    running = AlertReceiver().start()  # takes unsigned POSTs too (alertmanager, apprise)
    yield running
    running.stop()


@pytest.fixture
def book(tmp_path):
    made = AlertBook(Store(str(tmp_path / "hub")))
    made.tick(0.0)  # started: its outputs' threads start as they are added
    yield made
    made.close()
    made.store.close()


def states(book: AlertBook) -> dict[str, tuple[str, int, str | None]]:
    """series -> (state, attempts, error) of each delivery recorded."""
    return {d["alert"]["series"]: (d["state"], d["attempts"], d["error"])
            for d in recorded(book)}


def test_a_401_is_tried_once_rejected_and_the_next_alert_still_delivered(book, receiver):
    receiver.answers.append(401)
    add_output(book, receiver.url)
    fire(book, "s0", key="anomaly:s0:1")
    fire(book, "s1", key="anomaly:s1:1")
    turn(book)
    wait_for(lambda: [a["series"] for a in receiver.alerts] == ["s1"], 10, "the next alert")
    wait_for(lambda: states(book).get("s0", ("",))[0] == "rejected", 10, "s0 rejected")
    assert states(book) == {"s0": ("rejected", 1, "HTTP 401 Unauthorized"),
                            "s1": ("delivered", 1, None)}
    assert receiver.posts == 2  # one try of the rejected alert, one of the next
    # A rejected firing alert is not held as delivered (an Alertmanager output re-sends those).
    assert set(book.workers["ops"].firing) == {"anomaly:s1:1"}


@pytest.mark.parametrize("status", [400, 403, 404, 413, 422])
def test_every_other_refusal_of_the_request_is_permanent(book, receiver, status):
    receiver.answers.append(status)
    add_output(book, receiver.url)
    fire(book)
    turn(book)
    wait_for(lambda: states(book).get("cpu", ("",))[0] == "rejected", 10, "rejected")
    state, attempts, error = states(book)["cpu"]
    assert attempts == 1 and error.startswith(f"HTTP {status} ")
    assert receiver.posts == 1 and receiver.alerts == []


@pytest.mark.parametrize("answers", [[503], [429], [408], [425], [503, 429, 500]])
def test_server_errors_and_try_later_answers_are_retried_until_delivered(book, receiver,
                                                                         answers):
    receiver.answers.extend(answers)
    add_output(book, receiver.url)
    fire(book)
    turn(book)
    wait_for(lambda: states(book).get("cpu", ("",))[0] == "delivered", 20, "delivered")
    assert states(book)["cpu"] == ("delivered", len(answers) + 1, None)
    assert len(receiver.alerts) == 1 and receiver.posts == len(answers) + 1


def test_the_permanent_statuses_are_4xx_but_408_425_429():
    assert [s for s in range(300, 600) if is_permanent(s)] == [
        s for s in range(400, 500) if s not in (408, 425, 429)]


def test_an_alertmanager_refusal_is_rejected_and_never_resent(book, receiver):
    # The receiver takes Alertmanager's POSTs too (a JSON list of alerts per POST).
    receiver.answers.append(400)
    book.add_output(convert({"name": "am", "kind": "alertmanager", "url": receiver.url,
                             "backoff": 0.05, "resend_interval": 0.2}, AlertOutput, "output"))
    fire(book, "bad", key="anomaly:bad:1")
    fire(book, "good", key="anomaly:good:1")
    turn(book)
    wait_for(lambda: len(receiver.alerts) >= 3, 10, "two re-sends of the firing alert")
    assert states(book)["bad"] == ("rejected", 1, "HTTP 400 Bad Request")
    assert states(book)["good"] == ("delivered", 1, None)
    sent = {alert["labels"]["key"] for post in receiver.alerts for alert in post}
    assert sent == {"anomaly:good:1"}  # the rejected one was never re-sent
    # A rejected resolve ends the re-sends too (the Alertmanager resolves it by timeout).
    receiver.answers.append(400)
    fire(book, "good", key="anomaly:good:1", status=AlertStatus.RESOLVED)
    turn(book)
    wait_for(lambda: [d["state"] for d in recorded(book)][0] == "rejected", 10, "rejected")
    wait_for(lambda: not book.workers["am"].firing, 10, "nothing left to re-send")


def test_an_apprise_failure_says_no_status_and_is_retried(book, receiver):
    receiver.answers.append(401)
    host_path = receiver.url.split("://", 1)[1]
    book.add_output(convert({"name": "chat", "kind": "apprise", "urls": [f"json://{host_path}"],
                             "backoff": 0.05}, AlertOutput, "output"))
    fire(book)
    turn(book)
    wait_for(lambda: states(book).get("cpu", ("",))[0] == "delivered", 20, "delivered")
    assert states(book)["cpu"][1] == 2 and len(receiver.alerts) == 1


def test_after_a_restart_a_rejected_firing_alert_is_still_not_resent(tmp_path, receiver):
    receiver.answers.append(400)
    first = AlertBook(Store(str(tmp_path / "hub")))
    first.tick(0.0)
    first.add_output(convert({"name": "am", "kind": "alertmanager", "url": receiver.url,
                              "backoff": 0.05, "resend_interval": 0.2}, AlertOutput, "output"))
    fire(first, "bad", key="anomaly:bad:1")
    fire(first, "good", key="anomaly:good:1")
    turn(first)
    wait_for(lambda: [d["state"] for d in recorded(first)] == ["delivered", "rejected"], 10,
             "one rejected, one delivered")
    first.store.commit()
    first.close()
    first.store.close()
    before = len(receiver.alerts)
    second = AlertBook(Store(str(tmp_path / "hub")))
    try:
        second.tick(0.0)
        wait_for(lambda: len(receiver.alerts) >= before + 2, 10, "re-sends after the restart")
        sent = {alert["labels"]["key"] for post in receiver.alerts[before:] for alert in post}
        assert sent == {"anomaly:good:1"}
    finally:
        second.close()
        second.store.close()
