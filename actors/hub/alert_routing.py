"""Which outputs take an alert: series patterns, kinds, severities, silences, rate limits.

Pure logic (no store, no threads): the alert book (alert_book.py) asks it for each alert
change, the delivery threads (alert_delivery.py) use its rate limiter and backoff.
A series pattern is "" (every series), "/regex/" or "/regex/i" (searched anywhere in the
name, as SiriDB's regular expressions), or else a glob ("cpu.*", "disk-?"), matched whole.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from functools import lru_cache

from protocol.alert_actions import AlertOutput, OutputKind
from protocol.alerts import Alert, Severity

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The compiled pattern (None: every name); ValueError for a bad regular expression."""
    if not pattern:
        return None
    if len(pattern) >= 2 and pattern.startswith("/") and (
            pattern.endswith("/") or pattern.endswith("/i")):
        flags = re.IGNORECASE if pattern.endswith("/i") else 0
        body = pattern[1:-2] if pattern.endswith("/i") else pattern[1:-1]
        try:
            return re.compile(body, flags)
        except re.error as exc:
            raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
    return re.compile(r"\A" + fnmatch.translate(pattern))


def matches(pattern: str, series: str) -> bool:
    """True when the series name matches the pattern ("" matches every name)."""
    compiled = compile_pattern(pattern)
    return compiled is None or compiled.search(series) is not None


def takes(output: AlertOutput, alert: Alert) -> bool:
    """True when the output's routing takes the alert (series, kind, minimum severity)."""
    return ((not output.kinds or alert.kind in output.kinds)
            and SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[output.min_severity]
            and matches(output.series, alert.series))


def check_output(output: AlertOutput) -> None:
    """ValueError saying what is wrong with an output's settings."""
    compile_pattern(output.series)
    if output.backoff > output.max_backoff:
        raise ValueError("'backoff' must not exceed 'max_backoff'")
    if output.kind == OutputKind.APPRISE:
        if not output.get("url") and not output.get("urls"):
            raise ValueError("an apprise output needs 'url' or 'urls'")
        if "secret" in output:
            raise ValueError("'secret' is for webhook outputs")
        return
    if "urls" in output:
        raise ValueError(f"'urls' is for apprise outputs; a {output.kind} output takes 'url'")
    if not output.get("url", "").startswith(("http://", "https://")):
        raise ValueError(f"a {output.kind} output needs an http:// or https:// 'url'")
    if output.kind == OutputKind.ALERTMANAGER and "secret" in output:
        raise ValueError("'secret' is for webhook outputs")


def silenced(silences: Iterable[tuple[str, list, float]], alert: Alert, now: float) -> bool:
    """True when an active silence (series pattern, kinds, ends_at) covers the alert."""
    return any(ends_at > now and (not kinds or alert.kind in kinds)
               and matches(pattern, alert.series) for pattern, kinds, ends_at in silences)


def backoff(attempts: int, first: float, cap: float) -> float:
    """Seconds to wait after `attempts` failed sends: first, doubled each time, at most cap."""
    return min(cap, first * 2 ** max(0, min(attempts - 1, 60)))


class RateLimit:
    """A token bucket: `per_minute` sends a minute, bursts up to that many (0: no limit)."""

    def __init__(self, per_minute: int, now: float) -> None:
        self.per_minute = per_minute
        self.tokens = float(per_minute)
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until a send is allowed (0: now); a send taken when 0 is returned."""
        if self.per_minute <= 0:
            return 0.0
        self.tokens = min(float(self.per_minute),
                          self.tokens + (now - self.at) * self.per_minute / 60.0)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) * 60.0 / self.per_minute
