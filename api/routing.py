"""Series names in URLs: route on the raw request path, decode the name segment ourselves.

A series name may hold any character, "/" included, so a client percent-encodes it
as one path segment (like JavaScript's encodeURIComponent): `a/b` is `/series/a%2Fb`.
WSGI servers hand the application PATH_INFO already decoded, where that name would
look like two segments; so the router is given the raw path (gunicorn's RAW_URI,
REQUEST_URI elsewhere) and the `{name:series_name}` converter decodes one segment.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

import falcon
from falcon.routing import BaseConverter

from api.errors import bad_request

#: Environ keys that carry the request target as the client sent it, by server.
RAW_PATH_KEYS = ("RAW_URI", "REQUEST_URI")


def encode_name(name: str) -> str:
    """Percent-encode a series name as one URL path segment."""
    return quote(name, safe="")


def series_path(name: str) -> str:
    """Return the URL path of a series."""
    return "/series/" + encode_name(name)


def raw_path(environ: dict[str, Any]) -> str:
    """Return the request path as sent (still percent-encoded), without query or host."""
    for key in RAW_PATH_KEYS:
        raw = environ.get(key)
        if raw:
            break
    else:
        # No raw target: re-encode PATH_INFO; an encoded "/" cannot be told apart here.
        path = environ.get("PATH_INFO", "") or "/"
        return quote(_untunnel(path), safe="/")
    if not raw.startswith("/"):  # absolute-form target: http://host/path
        raw = urlsplit(raw).path or "/"
    raw = raw.split("?", 1)[0].split("#", 1)[0]
    raw = _untunnel(raw)
    script_name = quote(_untunnel(environ.get("SCRIPT_NAME", "")), safe="/")
    if script_name and raw.startswith(script_name):
        raw = raw[len(script_name):] or "/"
    return raw


def _untunnel(text: str) -> str:
    # WSGI strings carry bytes as latin-1; undo that when the bytes are UTF-8.
    try:
        return text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


class RawPathMiddleware:
    """Make falcon route on the raw (still encoded) request path."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Replace req.path with the raw path, a trailing slash removed."""
        path = raw_path(req.env)
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        req.path = path


class SeriesNameConverter(BaseConverter):
    """Route field converter: one percent-encoded path segment to a series name."""

    def convert(self, value: str) -> str | None:
        """Return the decoded name; None (no match) when empty; 400 when not UTF-8."""
        try:
            name = unquote(value, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise bad_request("series name in the path is not percent-encoded UTF-8") from None
        return name or None
