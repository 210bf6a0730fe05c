"""Routing, silences, backoff and the rate limit of alert outputs: pure logic."""

from __future__ import annotations

import pytest

from actors.hub.alert_routing import RateLimit, backoff, check_output, matches, silenced, takes
from protocol.alert_actions import AlertOutput
from protocol.alerts import Alert, AlertKind, AlertStatus, Severity
from protocol.typed import convert


def alert(series="cpu.load", kind=AlertKind.ANOMALY, severity=Severity.WARNING):
    return Alert(key=f"k:{series}", kind=kind, status=AlertStatus.FIRING, series=series,
                 severity=severity, at=1.0, summary="s")


def output(**extra):
    return convert({"name": "o", "kind": "webhook", "url": "http://127.0.0.1:1/x", **extra},
                   AlertOutput, "output")


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("", "anything", True),
    ("cpu.*", "cpu.load", True),
    ("cpu.*", "disk.cpu.load", False),        # a glob matches the whole name
    ("/cpu/", "disk.cpu.load", True),         # a regex is searched, as SiriDB's
    ("/^cpu\\./", "disk.cpu.load", False),
    ("/CPU/i", "cpu", True),
    ("/CPU/", "cpu", False),
])
def test_series_patterns_match_as_documented(pattern, name, expected):
    assert matches(pattern, name) is expected


def test_an_output_takes_only_its_series_kinds_and_severities():
    routed = output(series="cpu.*", kinds=["anomaly", "rule"], min_severity="warning")
    assert takes(routed, alert())
    assert not takes(routed, alert(series="disk.used"))
    assert not takes(routed, alert(kind=AlertKind.SYSTEM))
    assert not takes(routed, alert(severity=Severity.INFO))
    assert takes(routed, alert(severity=Severity.CRITICAL))


def test_a_silence_holds_back_matching_alerts_until_it_ends():
    silences = [("cpu.*", [], 100.0), ("disk.*", ["rule"], 100.0)]
    assert silenced(silences, alert(), now=50.0)
    assert not silenced(silences, alert(), now=100.0)             # ended
    assert not silenced(silences, alert(series="disk.x"), now=50.0)  # another kind
    assert silenced(silences, alert(series="disk.x", kind=AlertKind.RULE), now=50.0)


def test_backoff_doubles_up_to_its_cap():
    assert [backoff(n, 1.0, 5.0) for n in (1, 2, 3, 4, 100)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_the_rate_limit_lets_a_burst_through_then_one_per_interval():
    limit = RateLimit(per_minute=2, now=0.0)
    assert limit.wait(0.0) == 0.0 and limit.wait(0.0) == 0.0
    assert limit.wait(0.0) == pytest.approx(30.0)   # the third waits for a token
    assert limit.wait(30.0) == 0.0
    assert RateLimit(0, 0.0).wait(0.0) == 0.0       # 0: no limit


@pytest.mark.parametrize(("fields", "problem"), [
    ({"kind": "webhook", "url": "ftp://x"}, "http://"),
    ({"kind": "webhook"}, "http://"),
    ({"kind": "alertmanager", "url": "http://x", "secret": "s"}, "secret"),
    ({"kind": "apprise"}, "'url' or 'urls'"),
    ({"kind": "webhook", "url": "http://x", "urls": ["json://x"]}, "urls"),
    ({"kind": "webhook", "url": "http://x", "series": "/(/"}, "regular expression"),
    ({"kind": "webhook", "url": "http://x", "backoff": 10.0, "max_backoff": 5.0}, "backoff"),
])
def test_bad_outputs_are_refused_with_the_reason(fields, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(")):
        check_output(convert({"name": "o", **fields}, AlertOutput, "output"))
