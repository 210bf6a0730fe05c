"""The import boundaries of setup.cfg hold (import-linter), and a broken one is reported."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports is missing: pip install -e '.[test]'")
    return subprocess.run(
        [exe, "--config", str(config), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_every_import_contract_is_kept():
    run = _lint_imports(ROOT / "setup.cfg")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout
    # Each contract of setup.cfg was checked (a contract dropped by a typo would not be).
    assert run.stdout.count(" KEPT") == (ROOT / "setup.cfg").read_text().count(
        "[importlinter:contract:")


def test_a_forbidden_import_breaks_a_contract(tmp_path):
    # The same contracts, with one the code breaks today: the worker imports protocol.
    config = tmp_path / "setup.cfg"
    config.write_text((ROOT / "setup.cfg").read_text() + (
        "\n[importlinter:contract:canary]\nname = canary\ntype = forbidden\n"
        "source_modules = actors.worker\nforbidden_modules = protocol\n"
    ))
    run = _lint_imports(config)
    assert run.returncode != 0 and "canary BROKEN" in run.stdout
