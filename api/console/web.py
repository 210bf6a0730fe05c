"""What every console resource shares: the session check, CSRF, forms and rendering."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

import falcon
import jinja2

from api.console.session import COOKIE, SESSION_TTL, Session, SessionKeys, csrf_ok
from api.resources import Hub
from api.routing import encode_name

PREFIX = "/ui"
#: Largest console form accepted (the settings form is the biggest, well under 4 KB).
MAX_FORM = 64 * 1024
#: Seconds between two refreshes of a page's live part.
POLL_SECONDS = 5
#: No script or style from elsewhere; plotly sets inline styles on its own elements.
CSP = ("default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'")


def _age(ts: float | None) -> str:
    if ts is None:
        return "never"
    seconds = max(0, int(time.time() - ts))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def make_templates() -> jinja2.Environment:
    """The console's Jinja2 environment: templates from this package, always escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("api.console", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
    )
    env.filters.update(seg=encode_name, age=_age, when=_when, tojson_attr=json.dumps,
                       qs=lambda v: quote(str(v), safe=""))
    env.globals.update(prefix=PREFIX, poll_seconds=POLL_SECONDS)
    return env


class Console:
    """Base of the console's resources: the hub, the session keys and the templates."""

    in_openapi = False  # HTML pages, not the REST API: /openapi.json leaves them out

    def __init__(self, hub: Hub, keys: SessionKeys, templates: jinja2.Environment) -> None:
        self.hub = hub
        self.keys = keys
        self.templates = templates

    def session(self, req: falcon.Request, resp: falcon.Response, page: bool = True) -> Session:
        """The request's session; a page without one redirects to the login, data gets 401."""
        session = self.keys.check((req.get_cookie_values(COOKIE) or [None])[0])
        if session is None and self.keys.open:
            session = self.keys.login("")  # REST is open: so is the console
            if session is not None:
                set_cookie(resp, session.cookie)
        if session is not None:
            return session
        if page:
            raise falcon.HTTPSeeOther(f"{PREFIX}/login")
        raise falcon.HTTPError(401, title="unauthorized", code="unauthorized",
                               description="log in to the console first")

    def change(self, req: falcon.Request, resp: falcon.Response) -> tuple[Session, dict[str, str]]:
        """The session and form of a change: refused without its CSRF token or with read only."""
        session = self.session(req, resp)
        form = read_form(req)
        if not csrf_ok(session, form.get("csrf") or req.get_header("X-CSRF-Token")):
            raise falcon.HTTPError(403, title="forbidden", code="forbidden",
                                   description="CSRF token missing or wrong: reload the page")
        if not session.may_change:
            raise falcon.HTTPError(403, title="forbidden", code="forbidden",
                                   description="logged in with the read-only token: "
                                               "changes need the full token")
        return session, form

    def render(self, resp: falcon.Response, template: str, session: Session | None,
               status: int = 200, **context: Any) -> None:
        """Write a page (or, for `?part=live` polls, the caller picks a fragment template)."""
        context = {"error": None, "done": None, **context}
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", CSP)
        resp.set_header("Cache-Control", "no-store")
        resp.text = self.templates.get_template(template).render(session=session, **context)


def set_cookie(resp: falcon.Response, value: str, max_age: int = SESSION_TTL) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Strict, whole console."""
    resp.set_cookie(COOKIE, value, max_age=max_age, path=PREFIX, http_only=True,
                    same_site="Strict", secure=False)  # plain HTTP on loopback is the default


def read_form(req: falcon.Request) -> dict[str, str]:
    """An urlencoded form body as a dict (last value wins); 400/413 when it cannot be one."""
    kind = (req.content_type or "").split(";")[0].strip().lower()
    if kind != falcon.MEDIA_URLENCODED:
        raise falcon.HTTPError(415, title="unsupported_media_type", code="unsupported_media_type",
                               description="console forms are application/x-www-form-urlencoded")
    raw = req.bounded_stream.read(MAX_FORM + 1)
    if len(raw) > MAX_FORM:
        raise falcon.HTTPError(413, title="too_large", code="too_large",
                               description=f"form over {MAX_FORM} bytes")
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise falcon.HTTPError(400, title="invalid", code="invalid",
                               description="form is not UTF-8") from None


def form_value(text: str) -> Any:
    """A form field as the JSON value it spells (12 -> 12, true -> True), else the text.

    The hub then checks it as it checks a REST body, so a bad value gets the same message
    as POST /settings would give.
    """
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float | bool) else text


def changed_fields(form: Mapping[str, str], current: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields that differ from the current values, as JSON values."""
    out: dict[str, Any] = {}
    for key, text in form.items():
        if key == "csrf" or key not in current:
            continue
        value = form_value(text.strip())
        if value != current[key] or type(value) is not type(current[key]):
            out[key] = value
    return out
