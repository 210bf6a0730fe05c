"""enodo-client list: every page of the hub's real list_series, over a real socket."""

from __future__ import annotations

import json

import pytest

from actors.hub.actions import run_action
from protocol.actions import SERIES_PAGE
from scripts.client import main
from scripts.client_commands import list_pages
from tests.api.stub_hub import ControlState, StubHub, control_handler
from tests.support.hub_state import make_state

WATCHED = SERIES_PAGE * 2 + 7  # three pages


@pytest.fixture
def hub_state(tmp_path):
    state = make_state(tmp_path / "hub")
    for i in range(WATCHED):
        state.add_series(f"host{i:05d}.{'cpu' if i % 2 else 'mem'}",
                         "prophet" if i % 100 == 0 else "arima", {}, False)
    return state


@pytest.fixture
def stub(hub_state, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ENODO_CLIENT_TOKEN", raising=False)
    requests = []

    def listed(params):
        requests.append(params)
        return run_action(hub_state, "list_series", params or {})

    with StubHub(control_handler(ControlState({"list_series": listed}))) as hub:
        hub.requests = requests
        yield hub


def run(stub, *args):
    return main(["--hub", stub.endpoint, "--timeout", "5", "--json", "list", *args])


def test_list_fetches_every_page(stub, capsys):
    assert run(stub) == 0
    out = json.loads(capsys.readouterr().out)
    names = [s["name"] for s in out["series"]]
    assert len(names) == WATCHED == out["total"] and names == sorted(set(names))
    assert len(stub.requests) == 3 and not stub.requests[0]  # no params: as before paging


def test_list_with_filters_and_a_limit(stub, capsys):
    assert run(stub, "--pattern", "host0*.cpu", "--model", "arima", "--limit", "3") == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in out["series"]] == ["host00001.cpu", "host00003.cpu",
                                                  "host00005.cpu"]
    assert out["total"] == sum(1 for i in range(1, WATCHED, 2) if i % 100 and i < 10000)
    assert stub.requests == [{"pattern": "host0*.cpu", "model": "arima", "limit": 3}]


def test_table_says_when_a_limit_hides_series(stub, capsys):
    assert main(["--hub", stub.endpoint, "--timeout", "5", "list", "--limit", "2"]) == 0
    assert f"2 of {WATCHED} series shown" in capsys.readouterr().out


def test_a_bad_state_is_refused_before_asking_the_hub(stub, capsys):
    with pytest.raises(SystemExit):
        run(stub, "--state", "sleeping")
    assert stub.requests == []


def test_list_pages_against_a_hub_from_before_paging():
    asked = []

    def old_hub(action, params):
        asked.append(params)
        return {"series": [{"name": "a"}, {"name": "b"}]}  # no total, no next

    assert list_pages(old_hub, None) == {"series": [{"name": "a"}, {"name": "b"}], "total": 2}
    assert asked == [None]
