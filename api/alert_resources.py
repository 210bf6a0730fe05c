"""REST resources of alerts: outputs, silences, deliveries (docs/alerts.md).

Each turns a request into one hub action (actors/hub/alert_actions.py), typed in
protocol/alert_actions.py; resources.py mounts them with the others.
"""

from __future__ import annotations

from typing import Any, ClassVar

import falcon

from api.bodies import check_body, read_object
from api.openapi import op, query_limit, ref
from protocol import alert_actions as shapes

Doc = dict[str, dict[str, Any]]
OUTPUT_PARAM = {"name": "name", "in": "path", "required": True, "description": "the output's name",
                "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
SILENCE_PARAM = {"name": "id", "in": "path", "required": True, "description": "the silence's id",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 64}}


class _Resource:
    def __init__(self, hub: Any) -> None:
        self.hub = hub


class AlertOutputs(_Resource):
    """/alerts/outputs: list the outputs, add one."""

    DOC: ClassVar[Doc] = {
        "GET": op("Every alert output (secrets hidden)", ("200", ref(shapes.Outputs), "outputs")),
        "POST": op("Add an alert output: webhook, alertmanager or apprise",
                   ("201", ref(shapes.OutputView), "the output, used from now on"),
                   (400, 408, 409, 413, 415), body=ref(shapes.AlertOutput)),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Every output."""
        resp.media = self.hub.request("list_alert_outputs")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Add an output -> 201 (409 when the name is taken)."""
        body = read_object(req)
        check_body(body, shapes.AlertOutput)
        resp.media = self.hub.request("add_alert_output", body)
        resp.status = falcon.HTTP_201
        resp.set_header("Location", f"{req.root_path}/alerts/outputs/{body['name']}")


class AlertOutput(_Resource):
    """/alerts/outputs/{name}: delete an output."""

    DOC: ClassVar[Doc] = {"DELETE": op(
        "Delete an alert output (what it had not delivered is dropped)",
        ("200", ref(shapes.Deleted), "deleted"), (400, 404), params=(OUTPUT_PARAM,))}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Delete the output."""
        resp.media = self.hub.request("remove_alert_output", {"name": name})


class Silences(_Resource):
    """/alerts/silences: list the silences, add one."""

    DOC: ClassVar[Doc] = {
        "GET": op("The silences not yet ended", ("200", ref(shapes.Silences), "silences")),
        "POST": op("Hold back the alerts of matching series until ends_at",
                   ("201", ref(shapes.Silence), "the silence"), (400, 408, 413, 415),
                   body=ref(shapes.NewSilence)),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The silences."""
        resp.media = self.hub.request("list_silences")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Add a silence -> 201."""
        body = read_object(req)
        check_body(body, shapes.NewSilence)
        resp.media = self.hub.request("add_silence", body)
        resp.status = falcon.HTTP_201


class Silence(_Resource):
    """/alerts/silences/{id}: end a silence now."""

    DOC: ClassVar[Doc] = {"DELETE": op(
        "End a silence now", ("200", ref(shapes.Deleted), "ended"), (400, 404),
        params=(SILENCE_PARAM,))}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:  # noqa: A002
        """End the silence."""
        resp.media = self.hub.request("remove_silence", {"id": id})


class Deliveries(_Resource):
    """/alerts/deliveries: the newest deliveries with their state (?limit, ?output)."""

    DOC: ClassVar[Doc] = {"GET": op(
        "Recent alert deliveries, newest first, with their state",
        ("200", ref(shapes.Deliveries), "deliveries"), (400,),
        params=(query_limit(100), {"name": "output", "in": "query", "required": False,
                                   "schema": OUTPUT_PARAM["schema"]}))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The newest deliveries."""
        params: dict[str, Any] = {}
        limit = req.get_param_as_int("limit", min_value=1, max_value=1000)
        if limit is not None:
            params["limit"] = limit
        # Blank values kept: `?output=` is a bad name (400), not "every output".
        output = falcon.uri.parse_query_string(req.query_string, keep_blank=True).get("output")
        if output is not None:
            params["output"] = output
        check_body(params, shapes.DeliveriesParams)
        resp.media = self.hub.request("alert_deliveries", params)


def mount(hub: Any) -> list[tuple[str, object]]:
    """The alert routes."""
    return [
        ("/alerts/outputs", AlertOutputs(hub)),
        ("/alerts/outputs/{name}", AlertOutput(hub)),
        ("/alerts/silences", Silences(hub)),
        ("/alerts/silences/{id}", Silence(hub)),
        ("/alerts/deliveries", Deliveries(hub)),
    ]
