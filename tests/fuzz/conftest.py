"""Print how many fuzz cases each target was fed in this session."""

from __future__ import annotations

from tests.fuzz.cases import CASES


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001 - pytest hook
    if not CASES:
        return
    terminalreporter.section("fuzz cases tried")
    for target, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{target}: {count}")
    terminalreporter.write_line(f"total: {sum(CASES.values())}")
