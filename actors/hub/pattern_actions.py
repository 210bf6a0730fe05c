"""API actions of watch by pattern: add, list, read, delete a pattern, and list its series.

Their params and data are typed in protocol/patterns.py. A pattern's template is checked
as its series will be added (its model and parameters, its anomaly settings), so a bad
template is refused when the pattern is created rather than at each match.
"""

from __future__ import annotations

from typing import Any

from actors.hub.actions import action
from actors.hub.detection import check_anomaly_settings
from actors.hub.models import check_model
from actors.hub.state import HubState
from protocol import patterns as shapes
from protocol.bodies import Empty
from protocol.envelope import Message
from protocol.errors import ErrorCode, ProtocolError
from protocol.types import ClientType, MessageType


def patterns_message(state: HubState) -> Message:
    """UPDATE_PATTERNS with the hub's patterns, for a listener."""
    return Message(MessageType.UPDATE_PATTERNS, {"patterns": state.patterns.texts()})


def _tell_listeners(state: HubState) -> None:
    note = patterns_message(state)
    for peer in state.peers.of_type(ClientType.LISTENER):
        state.outbox.send(peer.identity, note)


def _pattern(state: HubState, pid: int) -> Any:
    pattern = state.patterns.patterns.get(pid)
    if pattern is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"pattern {pid} not found")
    return pattern


@action("add_pattern")
def add_pattern(state: HubState, params: shapes.NewPattern) -> dict:
    """Watch every series matching a SiriDB regex, now and from now on, with a template."""
    template = params.get("template")
    template = template.to_dict() if template is not None else {}
    try:
        check_model(template.get("model", state.settings["default_model"]),
                    template.get("model_parameters") or {})
        check_anomaly_settings(template.get("anomaly"))
    except ProtocolError as exc:
        raise ProtocolError(exc.code, f"add_pattern: template: {exc.message}") from None
    if params.pattern in state.patterns.texts():
        raise ProtocolError(ErrorCode.CONFLICT, f"pattern {params.pattern!r} already exists")
    pattern = state.patterns.create(params.pattern, template, state.wall())
    state.event("pattern_added", f"pattern {pattern.id} {pattern.text} added")
    _tell_listeners(state)
    return state.patterns.info(pattern)


@action("list_patterns")
def list_patterns(state: HubState, params: Empty) -> dict:
    """Every pattern, oldest first."""
    book = state.patterns
    return {"patterns": [book.info(p) for p in book.patterns.values()]}


@action("get_pattern")
def get_pattern(state: HubState, params: shapes.PatternId) -> dict:
    """One pattern and what it found."""
    return state.patterns.info(_pattern(state, params.id))


@action("remove_pattern")
def remove_pattern(state: HubState, params: shapes.PatternId) -> dict:
    """Stop watching by this pattern; the series it added stay watched (as if added by hand)."""
    pattern = _pattern(state, params.id)
    state.patterns.delete(pattern.id)
    state.event("pattern_removed", f"pattern {pattern.id} {pattern.text} removed")
    _tell_listeners(state)
    return {"id": pattern.id}


@action("pattern_series")
def pattern_series(state: HubState, params: shapes.PatternSeriesParams) -> dict:
    """A page of the pattern's series (watched, missing from SiriDB, excluded), by name."""
    _pattern(state, params.id)
    rows = state.patterns.series_of(params.id)
    offset, limit = params.get("offset", 0), params.get("limit", 1000)
    stop = min(len(rows), offset + limit)
    return {"id": params.id, "total": len(rows), "offset": offset, "limit": limit,
            "next_offset": stop if stop < len(rows) else None, "series": rows[offset:stop]}
