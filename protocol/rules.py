"""Static rules of a series: thresholds on its data and on its forecast, and their states.

An operator gives a series rules (POST /series `rules`, PUT /series/{name}/rules):

- a data rule fires when the series is `above` (or `below`) `threshold` for at least
  `for_points` points and `for_seconds` seconds in a row, and resolves at the first point
  back on the right side (or once the points have stayed there `keep_firing_for`). Workers
  judge it on the points each job reads.
- a forecast rule fires when the forecast will cross `threshold` within `within` of its
  origin (the last point modelled), and says when (`crossing_at`): capacity planning, e.g.
  when a disk is full. `band` judges the side of the interval facing the threshold
  (the upper bound for `above`) instead of the mean: an earlier, more cautious warning.
  `for_seconds` and `keep_firing_for` hold it (data time, forecast origins) before it fires
  and before it resolves, so one noisy forecast neither pages nor resolves.

The hub checks them once (`parse_rules`), sends them with each job and keeps each rule's
`RuleState` (the worker's judgement, checked), and raises an alert on every change.
A span (`for_seconds`, `keep_firing_for`, `within`, a series' `horizon`) is seconds or a
text such as "90s", "15m", "6h", "7d", "2w".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from protocol.alerts import Severity
from protocol.errors import ErrorCode, ProtocolError
from protocol.names import Named
from protocol.settings import MAX_HORIZON
from protocol.typed import Meta, Shape

#: Rules a series may have.
MAX_RULES = 20
MAX_FOR_POINTS = 10**6
#: Longest span accepted (about ten years), in seconds.
MAX_SPAN = 10 * 366 * 86_400.0
UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "w": 604_800.0}
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
RuleId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
#: Rule ids the hub uses itself (the series' stale check).
RESERVED_IDS = frozenset({"stale"})
Span = float | str
#: The optional spans that hold a rule before it fires and before it resolves (0: none).
HOLDS = ("for_seconds", "keep_firing_for")
SPAN_RULE = 'a span: seconds (a number) or a text such as "90s", "15m", "6h", "7d", "2w"'


def span_seconds(value: Any) -> float:
    """A span as seconds (> 0, at most MAX_SPAN); ValueError saying what a span is."""
    if isinstance(value, bool):
        raise ValueError(f"must be {SPAN_RULE}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _SPAN.match(value)):
        seconds = float(match.group(1)) * UNITS[match.group(2)]
    else:
        raise ValueError(f"must be {SPAN_RULE}")
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_SPAN:
        raise ValueError(f"must be {SPAN_RULE}, more than 0 and at most 10 years")
    return seconds


class _Rule(Shape, frozen=True, omit_defaults=False, tag_field="kind"):
    """What every rule has: its id, the side and the threshold, how urgent its alert is."""

    op: Literal["above", "below"]
    threshold: float
    id: RuleId | None = None
    severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        if not math.isfinite(self.threshold):
            raise ValueError("'threshold' must be a finite number")
        if self.id is None:
            msgspec.structs.force_setattr(self, "id", self.default_id())
        if self.id in RESERVED_IDS:
            raise ValueError(f"'id' {self.id!r} is reserved")
        for key in HOLDS:  # both kinds have them
            self.optional_span(key)

    def default_id(self) -> str:
        """The id of a rule given without one: kind, side and threshold ("data-above-90")."""
        return f"{self.kind}-{self.op}-{self.threshold:g}".replace("+", "")

    @property
    def kind(self) -> str:
        """The rule's kind: its tag."""
        return type(self).__struct_config__.tag

    def breached(self, value: float) -> bool:
        """Whether value is on the wrong side of the threshold."""
        return value > self.threshold if self.op == "above" else value < self.threshold

    def to_json(self) -> dict[str, Any]:
        """The rule as served, its kind and every default included."""
        return msgspec.to_builtins(self)

    def optional_span(self, key: str) -> float:
        """An optional span field as seconds (0: not set); ValueError naming the key."""
        value = getattr(self, key)
        if value == 0.0:
            return 0.0
        try:
            return span_seconds(value)
        except ValueError as exc:
            raise ValueError(f"{key!r} {exc}") from None

    @property
    def hold_seconds(self) -> float:
        """for_seconds as seconds: how long the condition must hold before firing."""
        return self.optional_span("for_seconds")

    @property
    def keep_seconds(self) -> float:
        """keep_firing_for as seconds: how long the condition must stay clear to resolve."""
        return self.optional_span("keep_firing_for")


class DataRule(_Rule, frozen=True, tag="data"):
    """Fires after `for_points` points and `for_seconds` seconds on the wrong side; resolves
    once the points have been back on the right side for `keep_firing_for` (0: the first)."""

    for_points: Annotated[int, Meta(ge=1, le=MAX_FOR_POINTS)] = 1
    for_seconds: Span = 0.0
    keep_firing_for: Span = 0.0


class ForecastRule(_Rule, frozen=True, tag="forecast", kw_only=True):
    """Fires while the forecast crosses the threshold within `within` of its origin, once
    that has held on every forecast for `for_seconds` (data time: forecast origins); resolves
    once it has not for `keep_firing_for`. Both 0 by default: the first forecast decides."""

    within: Span
    band: bool = False
    for_seconds: Span = 0.0
    keep_firing_for: Span = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            span_seconds(self.within)
        except ValueError as exc:
            raise ValueError(f"'within' {exc}") from None

    @property
    def within_seconds(self) -> float:
        """within as seconds."""
        return span_seconds(self.within)


Rule = DataRule | ForecastRule


def parse_rules(raw: Any) -> list[Rule]:
    """Checked rules, ids filled in; ValueError naming the rule and key that is wrong."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("rules must be a list of rule objects")
    if len(raw) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} rules per series")
    rules: list[Rule] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ValueError(f"rules[{index}] must be an object")
        try:
            rule = msgspec.convert(dict(item), Rule)
        except msgspec.ValidationError as exc:
            raise ValueError(f"rules[{index}]: {_reword(exc)}") from None
        if any(r.id == rule.id for r in rules):
            raise ValueError(f"rules[{index}]: 'id' {rule.id!r} is used twice")
        rules.append(rule)
    return rules


_WORDS = {"op": "'above' or 'below'", "threshold": "a finite number",
          "severity": "one of " + ", ".join(repr(s.value) for s in Severity),
          "for_points": f"an integer from 1 to {MAX_FOR_POINTS}", "band": "true or false"}


def check_rules(raw: Any, what: str = "rules") -> list[dict[str, Any]]:
    """Rules as stored (ids and defaults filled); ProtocolError INVALID naming the problem."""
    try:
        return rules_json(parse_rules(raw))
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID, f"{what}: {exc}") from None


def check_horizon(raw: Any) -> int | str | None:
    """A series' horizon: steps (1 to MAX_HORIZON) or a span text; ProtocolError if neither."""
    if raw is None:
        return None
    if type(raw) is int and 1 <= raw <= MAX_HORIZON:
        return raw
    if isinstance(raw, str):
        try:
            span_seconds(raw)
            return raw
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID, f"horizon: {exc}") from None
    raise ProtocolError(ErrorCode.INVALID,
                        f"horizon: must be steps (1 to {MAX_HORIZON}) or a span text such "
                        'as "6h"')


def _reword(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    where = re.search(r"`\$\.([a-z_]+)`", text)
    if "Missing required field `kind`" in text or ("`$.kind`" in text and "Invalid" in text):
        return "'kind' must be 'data' or 'forecast'"
    if text.startswith("Object contains unknown field"):
        return f"unexpected key {text.split('`')[1]!r}"
    if text.startswith("Object missing required field"):
        return f"missing key {text.split('`')[1]!r}"
    if where and where.group(1) == "id":
        return "'id' must be 1 to 64 letters, digits, '_', '.' or '-'"
    key = where.group(1) if where else None
    if key in ("for_seconds", "keep_firing_for", "within"):
        return f"{key!r} must be {SPAN_RULE}"
    if key in _WORDS:
        return f"{key!r} must be {_WORDS[key]}"
    return text.replace(" - at `$.", " at '").replace("`", "'")


def rules_json(rules: list[Rule]) -> list[dict[str, Any]]:
    """The rules as stored and served."""
    return [rule.to_json() for rule in rules]


class RuleChange(Shape, frozen=True):
    """One change of a rule's status within a job (oldest first): what the hub alerts."""

    status: Literal["ok", "firing"]
    ts: int                       # the point (or forecast origin) at which it changed
    value: float | None = None


class RuleState(Shape, frozen=True, omit_defaults=False):
    """A rule's state, as the worker judged it and the hub serves it.

    status: ok, pending (on the wrong side, not long enough yet), firing (also while back
    on the right side for less than keep_firing_for), or unknown (not judged yet). since:
    the timestamp (the series' precision) where the status began; last_ts and value: the
    newest point judged and its value (a forecast rule: the forecast's origin and the value
    it expects at the crossing); run_start and run_points: the current run on the wrong
    side; clear_start: while firing, where the current run back on the right side began
    (keep_firing_for counts from it); crossing_at: when the forecast crosses the threshold
    (null: not within the forecast); changed_at: wall-clock seconds of the hub's last alert
    about it. changes: this job's changes (the hub alerts them and keeps none).
    """

    id: str
    kind: Literal["data", "forecast", "stale"]
    status: Literal["ok", "pending", "firing", "unknown"] = "unknown"
    since: int | None = None
    last_ts: int | None = None
    value: float | None = None
    run_start: int | None = None
    run_points: int = 0
    clear_start: int | None = None
    crossing_at: int | None = None
    changed_at: float | None = None
    changes: list[RuleChange] = msgspec.field(default_factory=list)

    #: The most changes one job reports per rule (the newest kept).
    MAX_CHANGES: ClassVar[int] = 20


class SetRules(Named):
    """set_rules: replace a series' rules; all valid, or nothing changes."""

    rules: list[dict[str, Any]]


class RulesBody(Shape):
    """PUT /series/{name}/rules: the series' new rules ([] removes them all)."""

    rules: list[Rule]


class SeriesRules(Shape):
    """A series' rules and their states after a change."""

    name: str
    rules: list[Rule]
    rule_states: dict[str, RuleState]
