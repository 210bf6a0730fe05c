"""Soak (slow): a worker SIGKILLed 50 times in the middle of a job while jobs flow.

Runs bench/soak_worker_kills.py: every requested forecast ends done (0 lost), and no output
is there twice (0 duplicates), in SiriDB or at the hub. `make test-slow` runs it.
"""

from __future__ import annotations

import pytest

from bench.soak_worker_kills import soak

pytestmark = pytest.mark.slow


@pytest.mark.timeout(1800)
def test_fifty_worker_kills_lose_and_duplicate_nothing(tmp_path):
    result = soak(tmp_path, kills=50, series=12, workers=3, select_delay=0.3)
    print(result)
    assert result.kills == result.kills_mid_job == 50
    assert result.requested > 50 and result.done == result.requested
    assert (result.lost, result.failed, result.duplicates) == (0, 0, 0)
    assert result.hub_done == result.done
