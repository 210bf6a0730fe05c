"""configs/grafana/enodo-dashboard.json: an importable dashboard of metrics Enodo exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import zmq.asyncio

from actors.listener.counter import PointCounter
from actors.listener.hub_link import HubLink
from actors.listener.telemetry import ListenerMetrics
from actors.worker.telemetry import WorkerMetrics
from api.telemetry import ApiMetrics
from protocol.envelope import Codec
from tests.support.hub_state import make_state

DASHBOARD = Path(__file__).resolve().parents[2] / "configs" / "grafana" / "enodo-dashboard.json"
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum",
                                                             "_created"), "gauge": ("",)}


def exported_names(tmp_path) -> set[str]:
    """Every sample name the actors' registries can expose (labelled ones before any use)."""
    state = make_state(tmp_path)
    state.metrics.watch(state)
    listener = ListenerMetrics()
    ctx = zmq.asyncio.Context()
    try:
        listener.watch(HubLink(ctx, "tcp://127.0.0.1:1", Codec("l"), PointCounter(),
                               client_id="l", version="t"))
    finally:
        ctx.term()
    worker = WorkerMetrics()
    worker.watch(SimpleNamespace(session_key=None))
    names = set()
    for registry in (state.metrics.registry, listener.registry, worker.registry,
                     ApiMetrics().registry):
        for family in registry.collect():
            names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_the_dashboard_is_a_grafana_model_with_a_prometheus_datasource_variable():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["title"] and dashboard["uid"] and dashboard["schemaVersion"] >= 30
    [variable] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == "prometheus"
    wanted = {"type": "prometheus", "uid": "${" + variable["name"] + "}"}
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        mine = {(grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"])
                for dy in range(grid["h"])}
        assert not cells & mine, f"panel {panel['title']!r} overlaps another"
        cells |= mine
    for panel in panels(dashboard):
        assert panel["datasource"] == wanted and panel["targets"], panel["title"]
        assert all(t["datasource"] == wanted and t["refId"] for t in panel["targets"])


def test_every_expression_names_metrics_enodo_exports(tmp_path):
    exported = exported_names(tmp_path)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = set()
    for panel in panels(dashboard):
        for target in panel["targets"]:
            names = {n for n in NAME.findall(target["expr"]) if n.startswith("enodo_")}
            assert names, f"{panel['title']!r}: {target['expr']} names no Enodo metric"
            assert names <= exported, f"{panel['title']!r}: not exported: {names - exported}"
            used |= names
    # Each family the actors export shows on the dashboard somewhere.
    families = {re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in exported}
    shown = {re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in used}
    assert families - shown == set()
