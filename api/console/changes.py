"""The console's changes (POST forms) and its login: each checks the session and CSRF.

A change that works redirects back (303, so a reload does not send it again) with `done`;
one the hub refuses redirects with the hub's message as `error`, shown on the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import falcon

from api.console.session import COOKIE, csrf_ok
from api.console.web import PREFIX, Console, form_value, read_form, set_cookie
from api.hub_client import HubError
from api.resources import check_servable
from api.routing import encode_name

ANOMALY_KEYS = ("direction", "min_deviation", "k", "n", "event_gap")


def back(path: str, **message: str) -> falcon.HTTPSeeOther:
    return falcon.HTTPSeeOther(path + ("?" + urlencode(message) if message else ""))


def _series_url(name: str) -> str:
    return f"{PREFIX}/series/{encode_name(name)}"


def attempt(path: str, done: str, call: Any) -> falcon.HTTPSeeOther:
    """Run a hub call; the redirect back says what happened (or the hub's refusal)."""
    try:
        call()
    except HubError as exc:
        if exc.code in ("internal", "unavailable"):
            raise
        return back(path, error=exc.message)
    return back(path, done=done)


class Login(Console):
    """/ui/login: the form, and the check of the REST token it sends."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the login form."""
        self.render(resp, "login.html", None, error=None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """A right token sets the session cookie; anything else sees the form again."""
        session = self.keys.login(read_form(req).get("token", "").strip())
        if session is None:
            self.render(resp, "login.html", None, status=401,
                        error="wrong token: use the REST bearer token (or the read-only one)")
            return
        set_cookie(resp, session.cookie)
        raise falcon.HTTPSeeOther(PREFIX)


class Logout(Console):
    """/ui/logout: forget the session (a POST with its CSRF token, so no link logs out)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Clear the cookie and show the login form."""
        session = self.session(req, resp)
        if not csrf_ok(session, read_form(req).get("csrf")):
            raise falcon.HTTPForbidden(description="CSRF token missing or wrong: reload the page")
        resp.unset_cookie(COOKIE, path=PREFIX)
        raise falcon.HTTPSeeOther(f"{PREFIX}/login")


class AddSeries(Console):
    """/ui/series (POST): start watching a series, as POST /series."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Add the series named in the form; go to its page."""
        _, form = self.change(req, resp)
        body: dict[str, Any] = {"name": form.get("name", "").strip(),
                                "realtime": form.get("realtime") == "on"}
        if form.get("model", "").strip():
            body["model"] = form["model"].strip()
        try:
            check_servable(body["name"])
            self.hub.request("add_series", body)
        except falcon.HTTPError as exc:
            raise back(PREFIX, error=str(exc.description)) from None
        except HubError as exc:
            if exc.code in ("internal", "unavailable"):
                raise
            raise back(PREFIX, error=exc.message) from None
        raise back(_series_url(body["name"]), done=f"added {body['name']}")


class RemoveSeries(Console):
    """/ui/series/{name}/remove (POST): stop watching the series, as DELETE /series/{name}."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Remove it and go back to the list."""
        self.change(req, resp)
        raise attempt(PREFIX, f"removed {name}",
                       lambda: self.hub.request("remove_series", {"name": name}))


class QueueJob(Console):
    """/ui/series/{name}/jobs (POST): queue a train, fit or forecast now."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Queue the form's job type; the hub checks it."""
        _, form = self.change(req, resp)
        kind = form.get("type", "")
        raise attempt(_series_url(name), f"{kind} queued", lambda: self.hub.request(
            "queue_job", {"name": name, "job_type": kind}))


class EditAnomaly(Console):
    """/ui/series/{name}/anomaly (POST): change the series' anomaly settings."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Send the fields given; the hub checks them (all or nothing)."""
        _, form = self.change(req, resp)
        changes = {key: form_value(form[key].strip()) for key in ANOMALY_KEYS
                   if form.get(key, "").strip()}
        raise attempt(_series_url(name), "anomaly settings changed", lambda: self.hub.request(
            "set_anomaly", {"name": name, "anomaly": changes}))
