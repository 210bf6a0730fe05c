"""API actions: what API_REQUEST can ask, shared by the REST API and ZMQ clients.

Each action's params and data are typed in protocol/actions.py; the params are checked
against their shape here, before the action runs, so an action reads typed fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.common.siridb_queries import name_problem
from actors.hub import rules
from actors.hub.compact import share
from actors.hub.detection import anomaly_view, check_anomaly_settings
from actors.hub.series import Series
from actors.hub.series_pages import SeriesFilter, offset_page, page
from actors.hub.state import HubState
from protocol import actions as shapes
from protocol.errors import ErrorCode, ProtocolError
from protocol.jobs import JobKind, OutputKind, SeriesJobState
from protocol.typed import Shape, convert
from protocol.types import PROTOCOL_VERSION

Action = Callable[[HubState, Any], Any]
#: action -> (params shape, function); the shapes are protocol/actions.py's.
ACTIONS: dict[str, tuple[type[Shape], Action]] = {}


def action(action_name: str, /) -> Callable[[Action], Action]:
    """Register fn as the action `action_name` (its params shape is the protocol's)."""

    def register(fn: Action) -> Action:
        ACTIONS[action_name] = (shapes.ACTIONS[action_name][0], fn)
        return fn

    return register


def run_action(state: HubState, name: str, params: Any) -> Any:
    """Check params against the action's shape and run it; ProtocolError for anything refused."""
    entry = ACTIONS.get(name)
    if entry is None:
        raise ProtocolError(ErrorCode.INVALID, f"unknown action {name[:64]!r}")
    shape, fn = entry
    typed = params if type(params) is shape else convert(params, shape, name)
    return fn(state, typed)


@action("list_series")
def list_series(state: HubState, params: shapes.SeriesListParams) -> dict:
    """A page of the watched series in short form, sorted by name, filtered (see the shape)."""
    where = SeriesFilter(params.get("pattern"), params.get("state"), params.get("job"),
                         params.get("model"))
    limit = params.get("limit", shapes.SERIES_PAGE)
    get = state.series.get
    found = page(state.series.index, get, where, params.get("after"), limit)
    return {"series": [get(name).summary() for name in found["names"]], "total": found["total"],
            "limit": limit, "next": found["next"]}


@action("add_series")
def add_series(state: HubState, params: shapes.AddSeries) -> dict:
    """Start watching a series (its name must also fit in SiriDB's queries)."""
    problem = name_problem(params.name)
    if problem:
        raise ProtocolError(ErrorCode.INVALID, f"add_series: 'name' {problem}")
    series = state.add_series(
        params.name, params.get("model"), params.get("model_parameters"),
        params.get("realtime", False), params.get("anomaly"), params.get("rules"),
        params.get("horizon"),
    )
    return _detail(state, series)


@action("get_series")
def get_series(state: HubState, params: shapes.Named) -> dict:
    """One series in full."""
    return _detail(state, state.get_series(params.name))


def _detail(state: HubState, series: Series) -> dict:
    detail = series.detail()
    if series.in_siridb is None and not state.siridb.status().get("configured"):
        # Never looked up, and never will be: say why rather than "not yet".
        detail["siridb_note"] = "the hub has no SiriDB configured: not looked up"
    return {**detail, **rules.detail(state, series)}


@action("remove_series")
def remove_series(state: HubState, params: shapes.Named) -> dict:
    """Stop watching a series."""
    state.remove_series(params.name)
    return {"name": params.name}


@action("get_settings")
def get_settings(state: HubState, params: shapes.Empty) -> dict:
    """The current settings."""
    return dict(state.settings)


@action("set_settings")
def set_settings(state: HubState, params: shapes.SetSettings) -> dict:
    """Change some settings; all or nothing."""
    return state.update_settings(params.settings)


@action("siridb_status")
def siridb_status(state: HubState, params: shapes.Empty) -> dict:
    """Whether the hub's SiriDB connection is configured, connected or failing."""
    return state.siridb.status()


@action("enodo_status")
def enodo_status(state: HubState, params: shapes.Empty) -> dict:
    """The hub's health in one object."""
    return {
        "version": state.version,
        "protocol": PROTOCOL_VERSION,
        "hub_id": state.hub_id,
        "uptime": round(state.clock() - state.started_at, 3),
        "series": len(state.series),
        "peers": state.peers.counts(),
        "jobs": state.scheduler.stats(),
    }


@action("event_log")
def event_log(state: HubState, params: shapes.EventLogParams) -> dict:
    """The newest events first."""
    return {"events": state.store.recent_events(params.get("limit", 100))}


@action("list_clients")
def list_clients(state: HubState, params: shapes.Empty) -> dict:
    """Every client the hub has seen, online or not."""
    return {"clients": state.list_clients()}


@action("get_forecast")
def get_forecast(state: HubState, params: shapes.ForecastParams) -> dict:
    """A page of the last forecast of a series as points: timestamp, mean, lower, upper.

    `offset` (default 0) and `limit` (1 to 1000, default 1000) choose the points; `total`
    says how many the forecast has and `next_offset` where the next page starts (null
    after the last), so no reply grows with the horizon.
    """
    series = state.get_series(params.name)
    offset = params.get("offset", 0)
    limit = params.get("limit", shapes.FORECAST_PAGE)
    page: dict[str, Any] = {"name": series.name, "forecast_at": None, "level": None,
                            "total": 0, "offset": offset, "limit": limit, "next_offset": None}
    forecast = state.store.get_output(series.name, OutputKind.FORECAST)
    if forecast is None:
        return {**page, "points": []}
    columns = [forecast[key] for key in ("timestamps", "mean", "lower", "upper")]
    total = min(len(column) for column in columns)
    stop = min(total, offset + limit)
    points = [
        {"timestamp": t, "mean": m, "lower": lo, "upper": hi}
        for t, m, lo, hi in zip(*(column[offset:stop] for column in columns), strict=True)
    ]
    return {**page, "forecast_at": series.forecast_at, "level": forecast.get("level"),
            "total": total, "next_offset": stop if stop < total else None, "points": points}


@action("get_anomalies")
def get_anomalies(state: HubState, params: shapes.AnomaliesParams) -> dict:
    """The newest anomalous points and anomaly events of a series, oldest first."""
    return anomaly_view(state, state.get_series(params.name), params.get("limit", 1000))


@action("get_accuracy")
def get_accuracy(state: HubState, params: shapes.Named) -> dict:
    """Backtest accuracy of the series' model and of the seasonal-naive baseline."""
    series = state.get_series(params.name)
    accuracy = state.store.get_output(series.name, OutputKind.ACCURACY)
    if accuracy is None:
        return {"name": series.name, "measured_at": None, "model": None, "baseline": None}
    return {"name": series.name, **accuracy}


@action("queue_job")
def queue_job(state: HubState, params: shapes.QueueJob) -> dict:
    """Queue a train, fit or forecast of a series now."""
    series = state.get_series(params.name)
    kind = params.job_type
    if kind is not JobKind.TRAIN and series.trained_at is None:
        raise ProtocolError(
            ErrorCode.CONFLICT, f"series {series.name!r} has no model yet: train it first"
        )
    state.scheduler.request(series, kind)
    return {"name": series.name, "job_type": kind, "jobs": series.jobs}


@action("set_rules")
def set_rules(state: HubState, params: shapes.SetRules) -> dict:
    """Replace a series' rules; a rule kept unchanged keeps its state."""
    return rules.set_rules(state, state.get_series(params.name), params.rules)


@action("console_series")
def console_series(state: HubState, params: shapes.ConsoleSeriesParams) -> dict:
    """One page of the console's series list: filtered and sorted by name, rows enriched.

    Only the page's rows read their stored accuracy and events, so a page costs the same
    with 10 or 10,000 series watched (the console would otherwise ask once per series).
    """
    needle = params.get("filter", "").casefold()
    where = SeriesFilter(state=params.get("state"), job=params.get("job"),
                         model=params.get("model"))
    others = where.test(state.series.get)
    keep = others
    if needle:
        def keep(name: str) -> bool:
            return needle in name.casefold() and (others is None or others(name))
    offset, limit = params.get("offset", 0), params.get("limit", 50)
    names, total = offset_page(state.series.index, keep, offset, limit, params.get("desc", False))
    rows = []
    for name in names:
        series = state.get_series(name)
        accuracy = state.store.get_output(name, OutputKind.ACCURACY) or {}
        events = state.store.get_output(name, OutputKind.ANOMALY_EVENTS) or []
        rows.append({**series.summary(), "forecast_at": series.forecast_at,
                     "jobs": series.jobs, "in_siridb": series.in_siridb,
                     "open_events": sum(1 for e in events if e.get("state") == "open"),
                     "accuracy": {"model": accuracy.get("model"),
                                  "baseline": accuracy.get("baseline")}})
    return {"total": total, "offset": offset, "limit": limit, "series": rows}


@action("set_anomaly")
def set_anomaly(state: HubState, params: shapes.SetAnomaly) -> dict:
    """Change some of a series' anomaly settings (the others kept); all or nothing."""
    series = state.get_series(params.name)
    series.anomaly = share(check_anomaly_settings({**series.anomaly, **params.anomaly}))
    state.store.put_series_config(series.name, series.config())
    state.event("anomaly_settings", f"series {series.name!r} anomaly settings changed",
                series.name)
    return {"name": series.name, "anomaly": series.anomaly}


@action("console_clients")
def console_clients(state: HubState, params: shapes.Empty) -> dict:
    """list_clients with what each online worker is doing: busy, capacity, running jobs."""
    running: dict[str, list[str]] = {}
    for series in state.series:
        for kind, job in series.jobs.items():
            if job["state"] == SeriesJobState.RUNNING and job.get("worker"):
                running.setdefault(job["worker"], []).append(f"{kind} {series.name}")
    clients = []
    for client in state.list_clients():
        peer = state.peers.by_client_id(client["client_id"]) if client.get("online") else None
        working = peer is not None and client.get("client_type") == "worker"
        clients.append({
            **client, "capacity": peer.capacity if working else None,
            "busy": (bool(peer.busy_jobs) or peer.reported_busy is not None) if working else None,
            "jobs": running.get(client["client_id"], []),
            "address": peer.address if peer is not None else None,
        })
    return {"clients": clients}


@action("job_history")
def job_history(state: HubState, params: shapes.Named) -> dict:
    """The series' last finished jobs, newest first (kept in memory since the hub started)."""
    series = state.get_series(params.name)
    # A series removed and added again under its name starts with no history.
    jobs = [j for j in state.scheduler.finished(series.name) if j["ended_at"] >= series.created_at]
    return {"name": series.name, "jobs": jobs}


# The actions of alerts and of watch by pattern register themselves with `action` above.
from actors.hub import alert_actions, pattern_actions  # noqa: E402, F401
