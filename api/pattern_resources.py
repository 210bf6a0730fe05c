"""REST resources of watch by pattern: /patterns, /patterns/{id}, /patterns/{id}/series.

Each runs one hub action (actors/hub/pattern_actions.py); bodies and answers are the
shapes of protocol/patterns.py.
"""

from __future__ import annotations

from typing import ClassVar

import falcon

from api.bodies import check_body, read_object
from api.openapi import PATTERN_ID_PARAM, op, ref
from api.resources import Doc, HubResource, Query
from protocol import patterns as shapes

#: The pattern id in a path (falcon's int converter: anything else is not this route).
ID = "{id:int(min=1)}"
PAGE = (Query("offset", 0, 2**31, 0, "index of the first series"),
        Query("limit", 1, 1000, 1000, "series per page"))


class PatternCollection(HubResource):
    """/patterns: list the patterns, add one."""

    DOC: ClassVar[Doc] = {
        "GET": op("List the patterns", ("200", ref(shapes.PatternList), "the patterns")),
        "POST": op("Watch every series matching a SiriDB regex, with a template",
                   ("201", ref(shapes.PatternInfo), "the pattern added"),
                   (400, 408, 409, 413, 415), body=ref(shapes.NewPattern),
                   headers={"Location": {"schema": {"type": "string"},
                                         "description": "the pattern's path"}}),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List the patterns."""
        resp.media = self.hub.request("list_patterns")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Add a pattern: {"pattern": "/cpu\\\\..*/", "template"?: {...}} -> 201."""
        body = read_object(req)
        check_body(body, shapes.NewPattern)
        data = self.hub.request("add_pattern", body)
        resp.media = data
        resp.status = falcon.HTTP_201
        resp.set_header("Location", f"{req.root_path}/patterns/{data['id']}")


class PatternItem(HubResource):
    """/patterns/{id}: one pattern; DELETE stops watching by it (its series stay)."""

    DOC: ClassVar[Doc] = {
        "GET": op("One pattern and what it found", ("200", ref(shapes.PatternInfo), "the pattern"),
                  (400, 404), params=(PATTERN_ID_PARAM,)),
        "DELETE": op("Delete a pattern (the series it added stay watched)",
                     ("200", ref(shapes.PatternRemoved), "the pattern deleted"),
                     (400, 404), params=(PATTERN_ID_PARAM,)),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:  # noqa: A002
        """Return the pattern."""
        resp.media = self.hub.request("get_pattern", {"id": id})

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:  # noqa: A002
        """Delete the pattern."""
        resp.media = self.hub.request("remove_pattern", {"id": id})


class PatternSeries(HubResource):
    """/patterns/{id}/series: a page of the pattern's series, sorted by name."""

    DOC: ClassVar[Doc] = {"GET": op(
        "A page of the pattern's series: watched, missing from SiriDB, or excluded",
        ("200", ref(shapes.PatternSeries), "the series"), (400, 404),
        params=(PATTERN_ID_PARAM, *(q.doc() for q in PAGE)))}

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:  # noqa: A002
        """Return one page."""
        params: dict[str, int] = {"id": id}
        for q in PAGE:
            value = req.get_param_as_int(q.name, min_value=q.minimum, max_value=q.maximum)
            if value is not None:
                params[q.name] = value
        resp.media = self.hub.request("pattern_series", params)


def pattern_routes(hub: object) -> list[tuple[str, object]]:
    """The routes of watch by pattern and their resources."""
    return [
        ("/patterns", PatternCollection(hub)),
        (f"/patterns/{ID}", PatternItem(hub)),
        (f"/patterns/{ID}/series", PatternSeries(hub)),
    ]
