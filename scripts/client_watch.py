"""`enodo-client watch`: follow SERIES_UPDATE pushes, heartbeating, riding out hub restarts."""

from __future__ import annotations

from collections.abc import Callable

from protocol.envelope import Message
from scripts.client_session import ClientSession, Forgotten, HubUnreachable


def watch(
    session: ClientSession,
    series: list[str] | None,
    emit: Callable[[Message], None],
    warn: Callable[[str], None],
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Subscribe, then emit each update until should_stop() (or Ctrl-C) ends the loop.

    The session must be connected. A heartbeat goes out every heartbeat_interval; a
    hub that forgot us gets a new handshake; a hub silent for liveness intervals
    (or that said SHUTDOWN) is reconnected to, as often as it takes.
    """
    session.subscribe(series)
    clock = session.clock
    next_beat = clock() + session.heartbeat_interval
    while not should_stop():
        now = clock()
        if now >= next_beat:
            _try(session.heartbeat)
            next_beat = now + session.heartbeat_interval
        if session.hub_silent() or session.hub_said_shutdown:
            warn(f"lost the hub at {session.address}; reconnecting")
            if _reconnect(session, series, warn):
                warn("reconnected")
            next_beat = clock() + session.heartbeat_interval
            continue
        try:
            for update in session.updates(max(0.0, next_beat - clock())):
                emit(update)
        except Forgotten:
            warn("the hub forgot this client; handshaking again")
            _try(session.handshake)
            _try(lambda: session.subscribe(series))


def _reconnect(
    session: ClientSession, series: list[str] | None, warn: Callable[[str], None]
) -> bool:
    try:
        session.connect()
        session.subscribe(series)
    except HubUnreachable as exc:
        warn(exc.message)
        return False
    return True


def _try(step: Callable[[], object]) -> None:
    # A lost hub is noticed by hub_silent() on the next turn; no need to stop here.
    try:
        step()
    except HubUnreachable:
        pass


#: Job states after which nothing more happens to that job.
FINAL_STATES = ("done", "failed")


def follow_job(
    session: ClientSession, series: str, kind: str, say: Callable[[str], None],
    timeout: float = 3600.0,
) -> int:
    """Say each state of the queued job as the hub pushes it; 0 when done, 1 failed, 2 lost.

    The session must already follow `series` (subscribed before the job was queued).
    """
    clock = session.clock
    started = clock()
    deadline = started + timeout
    while clock() < deadline:
        if session.hub_silent() or session.hub_said_shutdown:
            say(f"lost the hub at {session.address} while waiting")
            return 2
        for update in session.updates(min(session.heartbeat_interval, deadline - clock())):
            data = update.body.get("data") or {}
            if update.body.get("event") != "state" or data.get("job") != kind:
                continue
            state = data.get("state")
            note = f": {data['error']}" if data.get("error") else ""
            say(f"{kind} of {series}: {state} after {clock() - started:.1f} s{note}")
            if state in FINAL_STATES:
                return 0 if state == "done" else 1
        _try(session.heartbeat)
    say(f"{kind} of {series}: still not done after {timeout:.0f} s")
    return 2
