"""Forecast replies stay small (issue 15, item 9): horizon is capped, forecasts are paged."""

from __future__ import annotations

import pytest

from actors.hub.actions import run_action
from protocol.actions import FORECAST_PAGE
from protocol.envelope import dumps
from protocol.errors import ErrorCode, ProtocolError
from protocol.settings import MAX_HORIZON
from tests.support.hub_state import make_state

N = MAX_HORIZON


def store_forecast(state, name: str, n: int) -> None:
    state.store.put_output(name, "forecast", {
        "timestamps": list(range(1000, 1000 + n)), "mean": [float(i) for i in range(n)],
        "lower": [i - 1.0 for i in range(n)], "upper": [i + 1.0 for i in range(n)],
        "level": 0.95,
    })


@pytest.fixture
def state(tmp_path, clock):
    state = make_state(tmp_path, clock=clock)
    run_action(state, "add_series", {"name": "s"})
    return state


def test_horizon_is_capped_and_a_refused_value_changes_nothing(state):
    assert run_action(state, "set_settings", {"settings": {"horizon": MAX_HORIZON}})
    for bad in (MAX_HORIZON + 1, 100_000):
        with pytest.raises(ProtocolError) as info:
            run_action(state, "set_settings", {"settings": {"horizon": bad}})
        assert info.value.code is ErrorCode.INVALID and "horizon" in info.value.message
    assert run_action(state, "get_settings", {})["horizon"] == MAX_HORIZON


def test_a_stored_horizon_beyond_the_cap_falls_back_to_the_default(tmp_path, clock, caplog):
    state = make_state(tmp_path, clock=clock)
    state.store.put_settings({"horizon": 100_000, "fit_every": 7})
    state.store.commit()
    again = make_state(tmp_path, clock=clock)
    assert again.settings["horizon"] == 24 and again.settings["fit_every"] == 7
    assert "stored setting ignored, horizon = 24" in caplog.text


def test_a_long_forecast_comes_in_small_pages_that_add_up_to_it(state):
    store_forecast(state, "s", N)
    first = run_action(state, "get_forecast", {"name": "s"})
    assert (first["total"], first["offset"], first["limit"]) == (N, 0, FORECAST_PAGE)
    assert len(first["points"]) == FORECAST_PAGE and first["next_offset"] == FORECAST_PAGE
    assert len(dumps(first)) < 120_000  # the whole forecast would be about 1 MB
    seen, offset = [], 0
    while offset is not None:
        page = run_action(state, "get_forecast", {"name": "s", "offset": offset, "limit": 700})
        seen += [p["timestamp"] for p in page["points"]]
        offset = page["next_offset"]
    assert seen == list(range(1000, 1000 + N))
    assert page["points"][-1] == {"timestamp": 1000 + N - 1, "mean": N - 1.0,
                                  "lower": N - 2.0, "upper": float(N)}


def test_paging_bounds(state):
    assert run_action(state, "get_forecast", {"name": "s"})["points"] == []  # none yet
    store_forecast(state, "s", 10)
    past = run_action(state, "get_forecast", {"name": "s", "offset": 50})
    assert past["points"] == [] and past["total"] == 10 and past["next_offset"] is None
    for bad in ({"offset": -1}, {"limit": 0}, {"limit": 1001}, {"limit": "5"}):
        with pytest.raises(ProtocolError) as info:
            run_action(state, "get_forecast", {"name": "s", **bad})
        assert info.value.code is ErrorCode.INVALID
