"""The hub's database stalls (another process holds SQLite's write lock): peers stay.

A real stall, not a mock: this test process takes the WAL write lock of hub.sqlite3 (an
fcntl lock on byte 120 of hub.sqlite3-shm, where SQLite's unix VFS keeps it) and holds it
for HOLD seconds, so the hub's next transaction waits in SQLite's busy handler exactly as
it would behind another writer or a slow disk. Meanwhile a listener, a worker and a
heartbeating client must stay connected, REST's status must answer, and a series added
during the stall must be acknowledged only after it is on disk: it survives a kill -9.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time

import pytest

from tests.support.live_peer import LivePeer, api_status
from tests.support.stack import Stack
from tests.support.waiting import wait_for

HOLD = 8.0
WAL_WRITE_LOCK = 120  # byte of the -shm file: UNIX_SHM_BASE + WAL_WRITE_LOCK in os_unix.c


class WriteLock:
    """Takes SQLite's WAL write lock of a database from another process (this one)."""

    def __init__(self, db_path: str) -> None:
        self.fd = os.open(db_path + "-shm", os.O_RDWR)
        self.taken_at: float | None = None
        self._thread = threading.Thread(target=self._take, daemon=True)

    def _take(self) -> None:
        # Blocking: the kernel grants it the moment the hub's commit lets it go.
        fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, WAL_WRITE_LOCK, os.SEEK_SET)
        self.taken_at = time.monotonic()

    def take(self) -> None:
        self._thread.start()
        wait_for(lambda: self.taken_at is not None, 10, "the hub to let the write lock go")

    def release(self) -> None:
        os.close(self.fd)  # closing drops every fcntl lock this process has on the file


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, workers=1, listener=True)
    try:
        yield stack.start()
    finally:
        stack.close()


def test_peers_stay_while_a_commit_waits_for_the_database(stack):
    hub = stack.hub
    with LivePeer(hub.address("control"), "live-client") as client:
        lock = WriteLock(str(hub.data_dir / "hub.sqlite3"))
        lock.take()
        added: dict[str, object] = {}

        def add() -> None:
            started = time.monotonic()
            added["data"] = stack.client.call("add_series", timeout=HOLD + 20, name="during")
            added["after"] = time.monotonic() - started

        adder = threading.Thread(target=add, daemon=True)
        adder.start()
        statuses = []
        while time.monotonic() - lock.taken_at < HOLD:
            statuses.append(api_status(hub.address("api"), hub.token))
            adder.join(0.5)  # paces the probes; an early answer fails the assert below
        assert "data" not in added  # not acknowledged while it cannot be on disk
        lock.release()
        adder.join(HOLD + 20)
        assert added.get("data"), "add_series was never acknowledged"
        print(f"write lock held {HOLD} s: status answered {len(statuses)} times, slowest "
              f"{max(s for _, s in statuses) * 1000:.0f} ms; add_series acknowledged after "
              f"{added['after']:.1f} s; client's longest silence from the hub "
              f"{client.longest_silence:.2f} s")
        assert all(s["peers"] == {"listener": 1, "worker": 1, "client": s["peers"]["client"]}
                   for s, _ in statuses)
        assert all(s["peers"]["client"] >= 1 for s, _ in statuses)
        assert client.forgotten == 0
        assert client.longest_silence < 0.6  # liveness x heartbeat_interval of the test hub
    client_closed_at = time.time()
    events = stack.client.call("event_log", limit=1000)["events"]
    ours = ["live-client", "listener-test", *(w.worker_id for w in stack.workers)]
    # Until the live client stopped heartbeating (it is dropped some seconds after).
    offline = [e["message"] for e in events
               if e["kind"] == "client_offline" and e["ts"] < client_closed_at]
    assert not [m for m in offline if any(f" {name} " in m for name in ours)], offline
    assert "commit waiting for" in hub.log_path.read_text()

    hub.stop(signal.SIGKILL)
    hub.start()
    stack.client.close()
    assert [s["name"] for s in stack.client.call("list_series")["series"]] == ["during"]
