"""The alert actions (outputs, silences, deliveries): typed in protocol/alert_actions.py,
run on the hub's alert book (alert_book.py); they register with actions.py's `action`."""

from __future__ import annotations

from actors.hub.actions import action
from actors.hub.alert_book import AlertBook
from actors.hub.state import HubState
from protocol import alert_actions as shapes
from protocol.errors import ErrorCode, ProtocolError
from protocol.typed import Shape


def _book(state: HubState) -> AlertBook:
    if not isinstance(state.alerts, AlertBook):
        raise ProtocolError(ErrorCode.UNAVAILABLE, "this hub delivers no alerts")
    return state.alerts


@action("add_alert_output")
def add_alert_output(state: HubState, params: shapes.AlertOutput) -> dict:
    """Add an output; it takes every alert change from now on that its routing matches."""
    view = _book(state).add_output(params)
    state.event("alert_output_added", f"alert output {params.name!r} ({params.kind}) added")
    return view


@action("list_alert_outputs")
def list_alert_outputs(state: HubState, params: Shape) -> dict:
    """Every output (secrets hidden) with its deliveries pending."""
    return {"outputs": _book(state).list_outputs()}


@action("remove_alert_output")
def remove_alert_output(state: HubState, params: shapes.OutputNamed) -> dict:
    """Delete an output; what it had not delivered is dropped."""
    _book(state).remove_output(params.name)
    state.event("alert_output_removed", f"alert output {params.name!r} removed")
    return {"deleted": params.name}


@action("add_silence")
def add_silence(state: HubState, params: shapes.NewSilence) -> dict:
    """Hold back the alerts of matching series until ends_at."""
    silence = _book(state).add_silence(params)
    state.event("silence_added", f"alerts of {params.series!r} silenced until "
                f"{params.ends_at:.0f} ({silence['id']})")
    return silence


@action("list_silences")
def list_silences(state: HubState, params: Shape) -> dict:
    """The silences not yet ended."""
    return {"silences": _book(state).list_silences()}


@action("remove_silence")
def remove_silence(state: HubState, params: shapes.SilenceId) -> dict:
    """End a silence now."""
    _book(state).remove_silence(params.id)
    state.event("silence_removed", f"silence {params.id} ended")
    return {"deleted": params.id}


@action("alert_deliveries")
def alert_deliveries(state: HubState, params: shapes.DeliveriesParams) -> dict:
    """The newest deliveries first, with their state."""
    rows = _book(state).db.recent(params.get("limit", 100), params.get("output"))
    return {"deliveries": [
        {"id": r["id"], "output": r["output"], "key": r["key"], "kind": r["alert"]["kind"],
         "status": r["alert"]["status"], "series": r["alert"]["series"],
         "severity": r["alert"]["severity"], "state": r["state"], "attempts": r["attempts"],
         "error": r["error"], "created_at": r["created_at"], "updated_at": r["updated_at"]}
        for r in rows]}
