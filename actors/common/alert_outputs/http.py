"""One JSON POST with a timeout; anything but a 2xx answer is a SendError."""

from __future__ import annotations

import urllib.error
import urllib.request

from actors.common.alert_outputs import SendError

USER_AGENT = "enodo-alerts/1"


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST body to url; return the status, or raise SendError saying what went wrong."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SendError(f"cannot reach {_host(url)}: {reason}") from None


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
