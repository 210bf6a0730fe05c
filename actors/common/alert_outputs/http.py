"""One JSON POST with a timeout; anything but a 2xx answer is a SendError.

A 4xx answer is permanent (the receiver refuses this request as made: sending it again
gets the same answer), except 408 Request Timeout, 425 Too Early and 429 Too Many
Requests, which say "try later". 5xx answers, timeouts and connection errors are retried.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from actors.common.alert_outputs import SendError

USER_AGENT = "enodo-alerts/1"
#: 4xx answers that ask to try again later (timed out waiting, too early, rate limited).
RETRYABLE_4XX = frozenset({408, 425, 429})


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST body to url; return the status, or raise SendError saying what went wrong."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:
        raise SendError(f"HTTP {exc.code} {exc.reason}", permanent=is_permanent(exc.code)) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SendError(f"cannot reach {_host(url)}: {reason}") from None


def is_permanent(status: int) -> bool:
    """True for an HTTP status that sending the same request again cannot change."""
    return 400 <= status < 500 and status not in RETRYABLE_4XX


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
