"""What the scale bench reads: the hub's /proc figures, its metrics, REST latency, start-up."""

from __future__ import annotations

import os
import random
import re
import threading
import time
import urllib.request
from pathlib import Path

from api.routing import series_path
from tests.api.gunicorn_proc import Gunicorn
from tests.support.hub import HubProcess, Peer

BUCKET = re.compile(r'^enodo_hub_loop_turn_(seconds|cpu_seconds)_bucket\{le="([^"]+)"\} '
                    r'([0-9.e+]+)$', re.M)
PEERS = re.compile(r'^enodo_hub_peers\{type="([a-z]+)"\} ([0-9.e+]+)$', re.M)
JOBS_DONE = re.compile(r'^enodo_hub_jobs_done_total\{[^}]*outcome="ok"[^}]*\} ([0-9.e+]+)$', re.M)


def hub_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """A process's resident memory (or its peak, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sqlite_mb(data_dir: Path) -> float:
    """The hub's database with its WAL, in MB."""
    return sum(p.stat().st_size for p in data_dir.glob("hub.sqlite3*")) / 1e6


def scrape_turns(port: int) -> dict:
    """The loop turn histogram's cumulative buckets and the jobs done, from /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as resp:
        text = resp.read().decode()
    found = BUCKET.findall(text)
    return {"buckets": sorted((float(le), float(n)) for kind, le, n in found if kind == "seconds"),
            "cpu_buckets": sorted((float(le), float(n)) for kind, le, n in found
                                  if kind == "cpu_seconds"),
            "jobs_done": sum(float(n) for n in JOBS_DONE.findall(text)),
            "peers": {kind: int(float(n)) for kind, n in PEERS.findall(text)}}


def quantiles(before: dict, after: dict, key: str = "buckets") -> dict:
    """p50 and p99 (ms, interpolated within a bucket) and the share over 10 ms, of a phase
    (key "cpu_buckets": of the loop thread's CPU per turn; a hub without it: zeros)."""
    diff = [(le, n1 - n0) for (le, n1), (_, n0) in zip(after[key], before[key], strict=True)]
    total = diff[-1][1] if diff else 0

    def quantile(q: float) -> float:
        target, low, below = q * total, 0.0, 0.0
        for le, count in diff:
            if count >= target:
                if le == float("inf"):
                    return low * 1000
                share = (target - below) / (count - below) if count > below else 1.0
                return (low + (le - low) * share) * 1000
            low, below = le, count
        return low * 1000

    within = dict(diff).get(0.01, total)
    return {"count": int(total), "p50_ms": quantile(0.5), "p99_ms": quantile(0.99),
            "over_10ms": (total - within) / total if total else 0.0}


def serving_after(hub: HubProcess, name: str) -> tuple[float, float]:
    """Start the hub; seconds until it answers a handshake and then get_series of name,
    and the hub's CPU seconds by then (what a crowded machine does not stretch)."""
    started = time.monotonic()
    hub.start(timeout=300)
    with Peer(hub.address("control"), "scale-probe", "client", token=hub.token) as peer:
        peer.handshake(timeout=60)
        answer = peer.api("get_series", timeout=60, name=name)
        if answer.type.value != "RESPONSE_OK":
            raise RuntimeError(f"get_series after start: {answer.body}")
    return time.monotonic() - started, hub_cpu(hub.proc.pid)


class RestProbe:
    """A thread: GET /series/{name} (a random one) and GET /series in turn, 4 a second."""

    def __init__(self, api: Gunicorn, names: list[str], interval: float = 0.25) -> None:
        self.api, self.names, self.interval = api, names, interval
        self.times: dict[str, list[float]] = {"GET /series/{name}": [], "GET /series": []}
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RestProbe:
        self._thread.start()
        return self

    def _run(self) -> None:
        rng = random.Random(3)
        while not self._stop.wait(self.interval):
            for kind in self.times:
                path = series_path(rng.choice(self.names)) if "{" in kind else "/series"
                started = time.perf_counter()
                try:
                    status, _, _ = self.api.request("GET", path, timeout=30)
                except OSError:
                    status = 0
                self.times[kind].append(time.perf_counter() - started)
                self.errors += status != 200

    def stop(self) -> dict[str, str]:
        """End the probe; per kind: p50, p99, max and count."""
        self._stop.set()
        self._thread.join(60)
        out = {}
        for kind, times in self.times.items():
            times.sort()
            if times:
                out[kind] = (f"p50 {times[len(times) // 2] * 1000:.1f} ms, p99 "
                             f"{times[int(len(times) * 0.99)] * 1000:.1f} ms, max "
                             f"{times[-1] * 1000:.1f} ms, n={len(times)}")
        out["errors"] = str(self.errors)
        return out
