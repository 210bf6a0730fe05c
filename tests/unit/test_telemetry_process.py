"""An actor keeps its metric values in memory even when a multiprocess folder is inherited."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
from prometheus_client import CollectorRegistry, Counter
from actors.common.telemetry import keep_values_in_process
import os
keep_values_in_process()
registry = CollectorRegistry()
Counter("enodo_probe_points", "probe", registry=registry).inc(3)
assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
print(registry.get_sample_value("enodo_probe_points_total"))
"""


def test_an_inherited_multiprocess_folder_gets_no_values(tmp_path):
    # gunicorn's config sets PROMETHEUS_MULTIPROC_DIR; an actor started from that environment
    # once wrote its values there, and the REST API served the listener's points as its own.
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, cwd=root,
        env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(root)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3.0"
    assert list(tmp_path.iterdir()) == []  # nothing written into the folder
