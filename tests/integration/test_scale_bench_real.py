"""bench/scale.py --real-workers runs end to end: real workers, the development SiriDB."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAST = re.compile(r"^scale: series=20 rss_mb=\d+ turn_p99_ms=[\d.]+ restart_s=[\d.]+ "
                  r"hub_cpu_per_job_ms=[\d.]+ jobs_per_s=\d+$")


@pytest.mark.slow  # a bench run with real workers (about 20 s): `make test-slow`
@pytest.mark.timeout(180)
def test_the_scale_bench_runs_real_forecasts_on_twenty_series():
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--series", "20", "--duration", "2",
         "--saturation-jobs", "20", "--listeners", "1", "--real-workers", "1",
         "--refresh", "5", "--history", "48"],
        cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert LAST.match(lines[-1]), lines[-1]
    assert "siridb: 20 series of 48 points" in done.stdout
    saturation = next(line for line in lines if line.startswith("saturation:"))
    # Every queued forecast run by the real worker and its result applied (outcome ok)...
    assert int(re.search(r"results applied (\d+)", saturation).group(1)) >= 20
    # ...and written back to SiriDB by it, for every series.
    assert "siridb: forecasts written for 20 of 20 series" in done.stdout
    assert "REST errors: 0" in done.stdout.replace("  ", " ")
