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
