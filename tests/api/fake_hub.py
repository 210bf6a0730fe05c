"""An in-memory hub client for the REST tests: a few series and settings, hub error codes."""

from __future__ import annotations

import copy
from typing import Any

from api.hub_client import HubError, HubUnavailable

MODELS = {"arima": "arima", "prophet": "prophet", 1: "arima", 2: "prophet"}
SETTINGS = {"min_data_points": 100, "fit_every": 20, "horizon": 24, "interval_level": 0.95}


class FakeHub:
    """Implements request(action, params) like the hub would answer it."""

    def __init__(self) -> None:
        self.series: dict[str, dict[str, Any]] = {}
        self.settings = dict(SETTINGS)
        self.jobs: list[tuple[str, str]] = []
        self.calls: list[tuple[str, dict[str, Any] | None]] = []
        self.unavailable = False

    def request(self, action: str, params: dict[str, Any] | None = None) -> Any:
        """Answer one action or raise HubError with the hub's code."""
        self.calls.append((action, copy.deepcopy(params)))
        if self.unavailable:
            raise HubUnavailable("hub at tcp://127.0.0.1:5563 did not answer within 5 s")
        handler = getattr(self, "do_" + action, None)
        if handler is None:
            raise HubError("invalid", f"unknown action {action!r}")
        return handler(params or {})

    def actions(self) -> list[str]:
        """Return the actions asked so far, in order."""
        return [action for action, _ in self.calls]

    def _get(self, name: str) -> dict[str, Any]:
        if name not in self.series:
            raise HubError("not_found", f"no series {name!r}")
        return self.series[name]

    def do_list_series(self, params: dict[str, Any]) -> Any:
        return {"series": [{"name": s["name"], "model": s["model"]} for s in self.series.values()]}

    def do_add_series(self, params: dict[str, Any]) -> Any:
        name = params["name"]
        model = MODELS.get(params.get("model", "arima"))
        if model is None:
            raise HubError("invalid", f"unknown model {params['model']!r} (known: arima, prophet)")
        if name in self.series:
            raise HubError("conflict", f"series {name!r} already exists")
        self.series[name] = {
            "name": name,
            "model": model,
            "model_parameters": params.get("model_parameters", {}),
            "realtime": params.get("realtime", False),
            "points": 0,
        }
        return self.series[name]

    def do_get_series(self, params: dict[str, Any]) -> Any:
        return self._get(params["name"])

    def do_remove_series(self, params: dict[str, Any]) -> Any:
        self._get(params["name"])
        del self.series[params["name"]]
        return {"name": params["name"]}

    def do_get_forecast(self, params: dict[str, Any]) -> Any:
        self._get(params["name"])
        return {"name": params["name"], "points": [[1700000000, 1.5, 1.0, 2.0]]}

    def do_get_anomalies(self, params: dict[str, Any]) -> Any:
        self._get(params["name"])
        return {"name": params["name"], "anomalies": [[1700000000, 9.5, 3.2]]}

    def do_get_accuracy(self, params: dict[str, Any]) -> Any:
        self._get(params["name"])
        return {"name": params["name"], "measured_at": 1700000000.0, "horizon": 24,
                "origins": 3, "level": 0.95, "period": 24,
                "model": {"name": "auto:ets", "mase": 0.61, "smape": 4.2, "coverage": 0.93},
                "baseline": {"name": "seasonal_naive", "mase": 1.0, "smape": 6.9,
                             "coverage": 0.97}}

    def do_queue_job(self, params: dict[str, Any]) -> Any:
        self._get(params["name"])
        self.jobs.append((params["name"], params["job_type"]))
        return {"name": params["name"], "job_type": params["job_type"], "state": "queued"}

    def do_get_settings(self, params: dict[str, Any]) -> Any:
        return dict(self.settings)

    def do_set_settings(self, params: dict[str, Any]) -> Any:
        changes = params["settings"]
        if not changes:
            raise HubError("invalid", "settings: expected a non-empty object")
        for key, value in changes.items():
            if key not in self.settings:
                raise HubError("invalid", f"settings: unknown key {key!r}")
            if type(value) is not type(self.settings[key]):
                raise HubError("invalid", f"settings: {key!r} has the wrong type")
        self.settings.update(changes)
        return dict(self.settings)

    def do_siridb_status(self, params: dict[str, Any]) -> Any:
        return {"status": "connected", "configured": True, "connected": True, "error": None,
                "host": "127.0.0.1", "port": 9000, "database": "dbtest"}

    def do_enodo_status(self, params: dict[str, Any]) -> Any:
        return {"version": "0.1.0", "protocol": 1, "hub_id": "hub-1", "uptime": 12.5,
                "series": len(self.series), "peers": {}, "jobs": {}}

    def do_event_log(self, params: dict[str, Any]) -> Any:
        limit = params.get("limit", 100)
        events = [{"id": i, "ts": 1700000000.0 + i, "level": "info", "kind": "test",
                   "message": f"event {i}", "series": None} for i in range(200, 0, -1)]
        return {"events": events[:limit]}

    def do_list_clients(self, params: dict[str, Any]) -> Any:
        return {"clients": [{"client_id": "w1", "client_type": "worker", "version": "0.1.0",
                             "online": True, "last_seen": 1.0, "first_seen": 0.5}]}
