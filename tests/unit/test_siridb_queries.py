"""Query text and SiriDB's limits: which series names Enodo can ask SiriDB about."""

from __future__ import annotations

import pytest

from actors.common.siridb_queries import (
    MAX_PLAIN_NAME_BYTES,
    MAX_QUERY_BODY,
    WIDEST_TS,
    between_query,
    count_query,
    drop_query,
    longest_query_body,
    name_problem,
    output_series,
    queries_about,
    query_body_size,
    tail_query,
)
from actors.hub.actions import run_action
from protocol.errors import ErrorCode, ProtocolError
from tests.support.hub_state import make_state


def longest_fitting(unit: str) -> str:
    """The longest name made of `unit` whose queries all fit."""
    low, high = 1, MAX_QUERY_BODY
    while low < high:
        mid = (low + high + 1) // 2
        if name_problem(unit * mid) is None:
            low = mid
        else:
            high = mid - 1
    return unit * low


def test_the_body_is_what_siridb_connector_sends():
    # [query, None]: fixed array, string header (3 bytes from 256 to 65535 bytes), null.
    assert query_body_size("x" * 300) == 300 + 5
    assert query_body_size("\u00fc" * 200) == 400 + 5


@pytest.mark.parametrize("unit", ["n", "'", "\u00fc", "\U0001f600"])
def test_the_longest_accepted_name_fits_and_one_more_does_not(unit):
    name = longest_fitting(unit)
    assert longest_query_body(name) <= MAX_QUERY_BODY
    assert longest_query_body(name + unit) > MAX_QUERY_BODY
    assert name_problem(name + unit) is not None


def test_plain_ascii_names_fit_up_to_65439_bytes():
    assert MAX_PLAIN_NAME_BYTES == 65_439 == len(longest_fitting("n"))


def test_the_worst_case_covers_every_query_at_any_precision():
    name = longest_fitting("n")
    ns_now = 1_800_000_000_000_000_000  # a 19-digit ns timestamp
    sent = [count_query(name), tail_query(name, 1_000_000), between_query(name, 0, ns_now)]
    for output in output_series(name).values():
        sent += [drop_query(output), between_query(output, ns_now, ns_now + 1)]
    assert max(map(query_body_size, sent)) <= longest_query_body(name) <= MAX_QUERY_BODY
    assert between_query(name, WIDEST_TS, WIDEST_TS) in queries_about(name)


def test_the_refusal_names_the_limit():
    problem = name_problem("n" * 65_500)
    assert problem is not None and f"limit of {MAX_QUERY_BODY}" in problem
    assert name_problem("cpu.load") is None


@pytest.mark.parametrize("name", ["n" * 65_500, "a\x00b", ""])
def test_the_hub_refuses_to_add_a_name_siridb_cannot_be_asked_about(tmp_path, name):
    state = make_state(tmp_path)
    with pytest.raises(ProtocolError) as info:
        run_action(state, "add_series", {"name": name})
    assert info.value.code is ErrorCode.INVALID
    assert len(state.series) == 0
    run_action(state, "add_series", {"name": longest_fitting("n")})
    assert len(state.series) == 1
