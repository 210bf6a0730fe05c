"""Alert outputs, silences and deliveries as the REST API and the client see them.

An output is where alerts go (a webhook, an Alertmanager, notification services through
apprise) and which of them it takes (routing); a silence holds back the alerts of some
series until its end; a delivery is one alert change sent (or being sent) to one output.
The hub checks these shapes (actors/hub/alert_actions.py) and keeps them in its store.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, ClassVar

import msgspec

from protocol.alerts import AlertKind, Severity
from protocol.bodies import Empty
from protocol.typed import UNSET, Meta, Shape, UnsetType

#: Output names: short, and safe in a URL path segment.
OutputName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
#: A series name pattern: "" (every series), "/regex/" (searched, as SiriDB's), else a glob.
Pattern = Annotated[str, Meta(max_length=1024)]
Seconds = Annotated[float, Meta(gt=0, le=7 * 86400)]
Url = Annotated[str, Meta(min_length=1, max_length=4096)]


class OutputKind(enum.StrEnum):
    """How an output delivers."""

    WEBHOOK = "webhook"            # a JSON POST, signed with HMAC-SHA256
    ALERTMANAGER = "alertmanager"  # Prometheus Alertmanager, API v2
    APPRISE = "apprise"            # Slack, Teams, e-mail... through the apprise library


class AlertOutput(Shape, frozen=True):
    """An output and its routing: every alert whose series, kind and severity match."""

    name: OutputName
    kind: OutputKind
    url: Url | UnsetType = UNSET          # webhook: the URL; alertmanager: its base URL
    urls: list[Url] | UnsetType = UNSET   # apprise: one or more service URLs
    secret: Annotated[str, Meta(max_length=1024)] | UnsetType = UNSET  # webhook HMAC key
    series: Pattern = ""
    kinds: list[AlertKind] = msgspec.field(default_factory=list)  # empty: every kind
    min_severity: Severity = Severity.INFO
    rate_limit: Annotated[int, Meta(ge=0, le=100_000)] = 0  # sends a minute; 0: no limit
    timeout: Annotated[float, Meta(gt=0, le=120)] = 10.0
    backoff: Seconds = 1.0          # first wait after a failed send, doubled each time
    max_backoff: Seconds = 300.0
    expire_after: Seconds = 86400.0  # a delivery not made by then is given up
    resend_interval: Seconds = 60.0  # alertmanager: firing alerts are sent again this often

    BOUNDS: ClassVar[dict[str, str]] = {
        "name": "1 to 64 of A-Z a-z 0-9 _ . -",
        "kind": "one of webhook, alertmanager, apprise",
        "min_severity": "one of info, warning, critical",
        "rate_limit": "an integer from 0 (no limit) to 100000 sends a minute",
    }


class OutputView(Shape):
    """An output as served: its secret and the credentials in its URLs are not shown."""

    name: str
    kind: OutputKind
    series: str
    kinds: list[AlertKind]
    min_severity: Severity
    rate_limit: int
    timeout: float
    backoff: float
    max_backoff: float
    expire_after: float
    resend_interval: float
    url: str | None = None
    urls: list[str] | None = None
    secret_set: bool = False
    pending: int = 0


class Outputs(Shape):
    """Every alert output."""

    outputs: list[OutputView]


class OutputNamed(Shape):
    """Params naming one output."""

    name: OutputName


class NewSilence(Shape):
    """Hold back the alerts of the series matching `series` (a name or pattern) until ends_at."""

    series: Pattern
    ends_at: Annotated[float, Meta(gt=0)]
    kinds: list[AlertKind] = msgspec.field(default_factory=list)  # empty: every kind
    comment: Annotated[str, Meta(max_length=1024)] = ""


class Silence(Shape):
    """A silence (active until ends_at, wall-clock seconds)."""

    id: str
    series: str
    ends_at: float
    kinds: list[AlertKind]
    comment: str
    created_at: float
    active: bool


class Silences(Shape):
    """Every silence not yet ended."""

    silences: list[Silence]


class SilenceId(Shape):
    """Params naming one silence."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]


class DeliveriesParams(Shape):
    """How many deliveries, newest first, and of which output."""

    limit: Annotated[int, Meta(ge=1, le=1000)] | UnsetType = UNSET
    output: OutputName | UnsetType = UNSET


class Delivery(Shape):
    """One alert change sent to one output."""

    id: int
    output: str
    key: str
    kind: AlertKind
    status: str          # the alert's: firing or resolved
    series: str
    severity: Severity
    state: str           # pending, delivered, rejected, expired, silenced, dropped
    attempts: int
    error: str | None
    created_at: float
    updated_at: float


class Deliveries(Shape):
    """Recent deliveries, newest first."""

    deliveries: list[Delivery]


class Deleted(Shape):
    """What was deleted."""

    deleted: str


#: action -> (params, data of its RESPONSE_OK); protocol/actions.py takes these in.
ALERT_ACTIONS: dict[str, tuple[type[Shape], Any]] = {
    "add_alert_output": (AlertOutput, OutputView),
    "list_alert_outputs": (Empty, Outputs),
    "remove_alert_output": (OutputNamed, Deleted),
    "add_silence": (NewSilence, Silence),
    "list_silences": (Empty, Silences),
    "remove_silence": (SilenceId, Deleted),
    "alert_deliveries": (DeliveriesParams, Deliveries),
}
