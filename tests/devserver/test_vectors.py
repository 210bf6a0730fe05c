"""Every recorded SiriDB exchange and tee package, replayed byte for byte."""

from __future__ import annotations

import pytest

from .replay import Replayer, load_vectors

VECTORS = load_vectors()
CLIENT_CASES = [case['name'] for case in VECTORS['client']]
TEE_CASES = [case['name'] for case in VECTORS['tee']] + ['tee_closed_by_set_false']


def test_every_case_was_replayed(replayed: Replayer) -> None:
    assert list(replayed.client) == CLIENT_CASES


@pytest.mark.parametrize('name', CLIENT_CASES)
def test_client_case(replayed: Replayer, name: str) -> None:
    assert replayed.client[name].problems == []


@pytest.mark.parametrize('name', TEE_CASES)
def test_tee_case(replayed: Replayer, name: str) -> None:
    assert replayed.tee[name].problems == []
