"""bench/scale.py runs end to end with a tiny store and prints its figures and last line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAST = re.compile(r"^scale: series=40 rss_mb=\d+ turn_p99_ms=[\d.]+ restart_s=[\d.]+ "
                  r"hub_cpu_per_job_ms=[\d.]+ jobs_per_s=\d+$")


@pytest.mark.slow  # a bench run end to end (about 30 s): `make test-slow`
@pytest.mark.timeout(300)
def test_the_scale_bench_runs_on_forty_series():
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--series", "40", "--duration", "2",
         "--saturation-jobs", "40", "--listeners", "2", "--workers", "1", "--refresh", "10"],
        cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert LAST.match(lines[-1]), lines[-1]
    saturation = next(line for line in lines if line.startswith("saturation:"))
    # Every queued forecast's result applied (a steady phase's late one may add to it).
    assert int(re.search(r"results applied (\d+)", saturation).group(1)) >= 40
    assert "REST errors: 0" in done.stdout.replace("  ", " ")
    assert "restart after kill -9 mid-burst: serving in" in done.stdout
