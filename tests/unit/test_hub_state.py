"""Hub handlers and state, driven directly with an injected clock (no sockets, no sleeps)."""

from __future__ import annotations

import pytest

from actors.hub.actions import run_action
from actors.hub.handlers import handle_control
from protocol.envelope import Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.types import MessageType
from tests.support.hub_state import hello, make_state


def sent(state):
    return [(item.identity, item.msg.type, item.msg.body) for item in state.outbox.take()]


@pytest.fixture
def state(tmp_path, clock):
    return make_state(tmp_path, clock=clock)


def test_listener_handshake_gets_ok_then_the_watch_list(state):
    run_action(state, "add_series", {"name": "a"})
    state.outbox.take()
    assert handle_control(state, b"L", hello("l1", "listener")) is None
    out = sent(state)
    assert [t for _, t, _ in out] == [MessageType.HANDSHAKE_OK, MessageType.UPDATE_SERIES]
    assert out[1][2] == {"series": [{"name": "a", "realtime": False}]}
    assert state.clients["l1"]["online"] is True


def test_wrong_token_fails_the_handshake_and_admits_nobody(tmp_path):
    state = make_state(tmp_path, token="s3cret")
    reply = handle_control(state, b"X", hello("c1", "client", token="nope"))
    assert reply.type is MessageType.HANDSHAKE_FAIL
    assert reply.body["code"] == "unauthorized"
    assert len(state.peers) == 0 and "c1" not in state.clients
    assert handle_control(state, b"X", hello("c1", "client", token="s3cret")) is None
    assert len(state.peers) == 1


def test_unknown_peer_is_told_to_handshake(state):
    reply = handle_control(state, b"?", Message(MessageType.HEARTBEAT, {}))
    assert reply.type is MessageType.UNKNOWN_CLIENT


def test_heartbeat_moves_expiry_and_silence_expires(state, clock):
    handle_control(state, b"W", hello("w1", "worker"))
    clock.now += 2.5
    handle_control(state, b"W", Message(MessageType.HEARTBEAT, {}))
    clock.now += 2.5
    assert state.peers.expired(clock.now) == []
    clock.now += 1.0
    [peer] = state.peers.expired(clock.now)
    state.drop_peer(peer, "silent")
    assert len(state.peers) == 0 and state.clients["w1"]["online"] is False
    reply = handle_control(state, b"W", Message(MessageType.HEARTBEAT, {}))
    assert reply.type is MessageType.UNKNOWN_CLIENT


def test_added_series_is_announced_to_listeners_and_subscribers(state):
    handle_control(state, b"L", hello("l1", "listener"))
    handle_control(state, b"C", hello("c1", "client"))
    handle_control(state, b"C", Message(MessageType.SUBSCRIBE, {}))
    state.outbox.take()
    reply = handle_control(
        state, b"C", Message(MessageType.ADD_SERIE, {"name": "a/b", "model": "arima"})
    )
    assert reply.type is MessageType.RESPONSE_OK and reply.body["data"]["name"] == "a/b"
    out = sent(state)
    assert (b"L", MessageType.ADD_SERIE, {"name": "a/b", "realtime": False}) in out
    assert any(i == b"C" and t is MessageType.SERIES_UPDATE for i, t, _ in out)


def test_duplicate_and_unknown_series_get_their_codes(state):
    run_action(state, "add_series", {"name": "a"})
    with pytest.raises(ProtocolError) as dup:
        run_action(state, "add_series", {"name": "a"})
    assert dup.value.code is ErrorCode.CONFLICT
    with pytest.raises(ProtocolError) as missing:
        run_action(state, "remove_series", {"name": "zz"})
    assert missing.value.code is ErrorCode.NOT_FOUND


@pytest.mark.parametrize(
    "params",
    [{"name": "a", "model": "nope"}, {"name": "a", "model": 99},
     {"name": "a", "model_parameters": {"bogus": 1}}, {"name": ""}, {"name": "a", "x": 1}],
)
def test_bad_series_requests_are_invalid_and_change_nothing(state, params):
    with pytest.raises(ProtocolError) as info:
        run_action(state, "add_series", params)
    assert info.value.code is ErrorCode.INVALID
    assert len(state.series) == 0


def test_legacy_model_ids_map_to_names(state):
    assert run_action(state, "add_series", {"name": "a", "model": 2})["model"] == "prophet"


def test_counts_only_from_listeners_and_only_for_watched_series(state):
    run_action(state, "add_series", {"name": "a"})
    handle_control(state, b"L", hello("l1", "listener"))
    handle_control(state, b"C", hello("c1", "client"))
    counts = Message(MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": {"a": 5, "b": 7}})
    assert handle_control(state, b"L", counts).body["data"] == {"matched": 1}
    assert state.series.get("a").points == 5
    with pytest.raises(ProtocolError) as info:
        handle_control(state, b"C", counts)
    assert info.value.code is ErrorCode.INVALID


def test_settings_change_all_or_nothing(state):
    before = run_action(state, "get_settings", {})
    for bad in ({"horizon": 0}, {"horizon": 5, "nope": 1}, {"horizon": "5"},
                {"fit_every": True}, {"default_model": "nope"}, {}):
        with pytest.raises(ProtocolError) as info:
            run_action(state, "set_settings", {"settings": bad})
        assert info.value.code is ErrorCode.INVALID
        assert run_action(state, "get_settings", {}) == before
    after = run_action(state, "set_settings", {"settings": {"horizon": 48, "interval_level": 0.9}})
    assert after["horizon"] == 48 and after["interval_level"] == 0.9


def test_state_survives_a_reopen(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    run_action(state, "add_series", {"name": "keep/me", "model": "prophet"})
    run_action(state, "set_settings", {"settings": {"horizon": 12}})
    handle_control(state, b"C", hello("c1", "client"))
    state.flush()
    state.store.commit()
    again = make_state(tmp_path, clock=clock)
    assert again.get_series("keep/me").model == "prophet"
    assert again.settings["horizon"] == 12
    assert again.clients["c1"]["online"] is False
    assert again.hub_id == state.hub_id


def test_uncommitted_changes_are_not_kept(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    state.store.commit()
    run_action(state, "add_series", {"name": "lost"})
    state.store.rollback()
    assert "lost" not in make_state(tmp_path, clock=clock).series


def test_event_log_and_clients_actions(state):
    run_action(state, "add_series", {"name": "a"})
    handle_control(state, b"C", hello("c1", "client"))
    events = run_action(state, "event_log", {"limit": 10})["events"]
    assert [e["kind"] for e in events][:2] == ["client_online", "series_added"]
    [client] = run_action(state, "list_clients", {})["clients"]
    assert client["client_id"] == "c1" and client["online"] is True
    with pytest.raises(ProtocolError):
        run_action(state, "event_log", {"limit": 0})


def test_unknown_action_is_invalid(state):
    with pytest.raises(ProtocolError) as info:
        run_action(state, "drop_database", {})
    assert info.value.code is ErrorCode.INVALID


def test_shutdown_marks_a_client_offline(state):
    handle_control(state, b"C", hello("c1", "client"))
    handle_control(state, b"C", Message(MessageType.SHUTDOWN, {"reason": "done"}))
    assert len(state.peers) == 0 and state.clients["c1"]["online"] is False


def test_the_same_worker_reconnecting_replaces_its_old_session(state):
    handle_control(state, b"A", hello("w1", "worker", instance="i1"))
    handle_control(state, b"B", hello("w1", "worker", instance="i1"))
    assert state.peers.get(b"A") is None and state.peers.get(b"B").client_id == "w1"
    assert state.clients["w1"]["online"] is True


def test_a_second_worker_with_the_same_id_is_refused_while_the_first_is_online(state, caplog):
    handle_control(state, b"A", hello("w1", "worker", instance="i1"))
    state.outbox.take()
    answer = handle_control(state, b"B", hello("w1", "worker", instance="i2"))
    assert answer.type is MessageType.HANDSHAKE_FAIL and answer.body["code"] == "conflict"
    assert "already online" in answer.body["message"] and "worker_id" in answer.body["message"]
    assert "refused a second worker with id 'w1'" in caplog.text
    assert state.peers.get(b"A").client_id == "w1" and state.peers.get(b"B") is None
    assert state.outbox.take() == []  # nothing for the refused one, no event for the first
    # Once the first has gone silent for good, the second takes the id.
    state.clock.now += state.heartbeat_interval * state.liveness
    answer = handle_control(state, b"B", hello("w1", "worker", instance="i2"))
    assert answer is None and state.peers.get(b"B").client_id == "w1"


def test_a_worker_without_a_nonce_is_refused(state):
    msg = hello("w1", "worker")
    del msg.body["nonce"]
    answer = handle_control(state, b"A", msg)
    assert answer.type is MessageType.HANDSHAKE_FAIL and "nonce" in answer.body["message"]


def test_event_log_is_trimmed_to_its_size(state):
    for i in range(120):
        state.event("test", f"event {i}")
    state.store.trim_events(100)
    events = run_action(state, "event_log", {"limit": 1000})["events"]
    assert len(events) == 100 and events[0]["message"] == "event 119"


def test_counts_are_journalled_and_replayed_after_a_crash(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    run_action(state, "add_series", {"name": "a"})
    state.flush()
    state.store.commit()
    state.add_counts({"a": 3})
    state.flush()
    state.store.commit()      # acknowledged: journalled, runtime not written yet
    state.series.get("a").jobs["fit"]["state"] = "done"
    state.series.touch("a")
    state.add_counts({"a": 4})
    state.flush()
    state.store.commit()      # runtime written with both counts: replay must not add them
    state.add_counts({"a": 5})
    state.flush()
    state.store.commit()
    again = make_state(tmp_path, clock=clock)
    assert again.series.get("a").points_counted == 12
    again.series.fold()
    again.store.commit()
    assert list(again.store.load_count_journal()) == []
    assert make_state(tmp_path, clock=clock).series.get("a").points_counted == 12


def _commit(state):
    state.flush()
    state.store.commit()


def test_a_partial_fold_writes_the_oldest_counted_series_and_keeps_rows_others_need(
        tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    for name in "abc":
        run_action(state, "add_series", {"name": name})
    _commit(state)
    state.add_counts({"a": 1, "b": 2})
    _commit(state)                       # journal row 1: a, b
    state.add_counts({"c": 4, "a": 8})
    _commit(state)                       # journal row 2: c, a
    state.series.fold(limit=1)           # a and b were counted first: a goes now
    state.store.commit()
    rows = [counts for _, counts in state.store.load_count_journal()]
    assert rows == [{"a": 1, "b": 2}, {"c": 4, "a": 8}]  # b still needs row 1, c row 2
    state.series.fold(limit=1)           # b
    state.store.commit()
    assert [counts for _, counts in state.store.load_count_journal()] == [{"c": 4, "a": 8}]
    # Crash here: a's runtime already holds row 2, c's does not; replay adds only c's.
    again = make_state(tmp_path, clock=clock)
    assert {n: again.series.get(n).points_counted for n in "abc"} == {"a": 9, "b": 2, "c": 4}
    again.series.fold(limit=1)
    again.store.commit()
    assert list(again.store.load_count_journal()) == []
    final = make_state(tmp_path, clock=clock)
    assert {n: final.series.get(n).points_counted for n in "abc"} == {"a": 9, "b": 2, "c": 4}


def test_fold_some_writes_slices_until_every_counted_series_is_written(
        tmp_path, clock, monkeypatch):
    monkeypatch.setattr("actors.hub.series.FOLD_SLICE", 3)
    state = make_state(tmp_path, clock=clock)
    names = [f"s{i}" for i in range(50)]
    for name in names:
        run_action(state, "add_series", {"name": name})
    _commit(state)
    state.add_counts(dict.fromkeys(names, 1))
    _commit(state)
    calls = 0
    while list(state.store.load_count_journal()):
        state.series.fold_some()
        state.store.commit()
        calls += 1
    assert 1 < calls <= -(-50 // 3)  # sliced, and at least FOLD_SLICE series a call
    final = make_state(tmp_path, clock=clock)
    assert all(final.series.get(n).points_counted == 1 for n in names)
