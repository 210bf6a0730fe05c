"""The alerts page's changes (POST forms): add and delete alert outputs and silences.

Each calls the hub action the REST resources call (api/alert_resources.py), after the
session, CSRF and read-only checks every console change makes (Console.change). A form
the console cannot turn into a body, or one the hub refuses, redirects back to /ui/alerts
with the message as `error`, and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import falcon

from api.bodies import check_body
from api.console.changes import attempt, back
from api.console.web import PREFIX, Console
from protocol import alert_actions as shapes
from protocol.rules import span_seconds

PAGE = f"{PREFIX}/alerts"


def output_body(form: dict[str, str]) -> dict[str, Any]:
    """An alert output from the form (apprise takes its URL as `urls`); ValueError if bad."""
    kind = form.get("kind", "").strip()
    url = form.get("url", "").strip()
    if not url:
        raise ValueError("output: 'url' is required")
    body: dict[str, Any] = {"name": form.get("name", "").strip(), "kind": kind}
    if kind == "apprise":
        body["urls"] = [url]
    else:
        body["url"] = url
    if form.get("secret", ""):
        if kind != "webhook":
            raise ValueError("output: a secret signs webhook sends only")
        body["secret"] = form["secret"]
    return body


def silence_end(form: dict[str, str], now: float) -> float:
    """The silence's end: a UTC time (ISO, as a datetime-local field sends) or a duration
    from now ("2h", "30m", seconds); exactly one of them. ValueError says what is wrong."""
    until, lasting = form.get("until", "").strip(), form.get("duration", "").strip()
    if bool(until) == bool(lasting):
        raise ValueError("silence: give an end time (UTC) or a duration, not both or neither")
    if lasting:
        try:
            return now + span_seconds(float(lasting) if _number(lasting) else lasting)
        except ValueError as exc:
            raise ValueError(f"silence: duration {exc}") from None
    try:
        end = dt.datetime.fromisoformat(until)
    except ValueError:
        raise ValueError(f"silence: end time {until[:40]!r} is not a time such as "
                         "2026-12-03T18:00 (UTC)") from None
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    return end.timestamp()


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _checked(body: dict[str, Any], shape: type) -> None:
    """check_body's 400 as a ValueError carrying its message."""
    try:
        check_body(body, shape)
    except falcon.HTTPError as exc:
        raise ValueError(str(exc.description)) from None


class AddOutput(Console):
    """/ui/alerts/outputs (POST): add an output, as POST /alerts/outputs."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Check the form as REST checks its body, then ask the hub."""
        _, form = self.change(req, resp)
        try:
            body = output_body(form)
            _checked(body, shapes.AlertOutput)
        except ValueError as exc:
            raise back(PAGE, error=str(exc)) from None
        raise attempt(PAGE, f"output {body['name']} added",
                       lambda: self.hub.request("add_alert_output", body))


class RemoveOutput(Console):
    """/ui/alerts/outputs/{name}/remove (POST): delete an output."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Delete it (what it had not delivered is dropped)."""
        self.change(req, resp)
        raise attempt(PAGE, f"output {name} deleted",
                       lambda: self.hub.request("remove_alert_output", {"name": name}))


class AddSilence(Console):
    """/ui/alerts/silences (POST): add a silence, as POST /alerts/silences."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Hold back the alerts of the series (name or pattern) until the end given."""
        _, form = self.change(req, resp)
        try:
            body = {"series": form.get("series", "").strip(),
                    "ends_at": silence_end(form, time.time()),
                    "comment": form.get("comment", "").strip()}
            if not body["series"]:
                raise ValueError("silence: 'series' is required (a name or a pattern)")
            _checked(body, shapes.NewSilence)
        except ValueError as exc:
            raise back(PAGE, error=str(exc)) from None
        raise attempt(PAGE, f"alerts of {body['series']} silenced",
                       lambda: self.hub.request("add_silence", body))


class RemoveSilence(Console):
    """/ui/alerts/silences/{id}/remove (POST): end a silence now."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:  # noqa: A002
        """End it."""
        self.change(req, resp)
        raise attempt(PAGE, f"silence {id} ended",
                       lambda: self.hub.request("remove_silence", {"id": id}))
