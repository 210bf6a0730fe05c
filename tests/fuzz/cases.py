"""Fuzz bookkeeping: how many cases each target was fed, and hypothesis settings per run.

The default run feeds a modest, derandomized number of examples (same cases every run);
the tests marked `slow` feed many more. tests/conftest.py prints the tally at the end.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, Phase, settings

#: Cases tried per target in this pytest session.
CASES: Counter[str] = Counter()


def tried(target: str, count: int = 1) -> None:
    """Record that `count` more cases were fed to `target`."""
    CASES[target] += count


def fuzz_settings(examples: int) -> settings:
    """Deterministic hypothesis settings: fixed examples, no deadline, no shrinking.

    The targets are long-lived processes: after a case breaks one, every later case fails
    too, so shrinking would only report noise. The failing case is reported as generated.
    """
    return settings(
        phases=[Phase.explicit, Phase.generate],
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
