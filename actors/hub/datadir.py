"""The hub's data folder: one hub at a time (a lock held for the process life), files 0600."""

from __future__ import annotations

import contextlib
import fcntl
import os

LOCK_FILE = "hub.lock"
#: Files only their owner may read: the state database holds series, settings, model state
#: and the event log, which are no one else's business on a shared host.
PRIVATE = 0o600


class DataDirBusy(RuntimeError):
    """Another process holds the lock on the data folder."""


class DataDirLock:
    """An exclusive flock on `<data_dir>/hub.lock`, held until release() or process exit.

    flock rather than POSIX record locks (fcntl.lockf): a record lock is dropped when the
    process closes *any* descriptor of the file, so a stray open() would free it. The
    kernel drops a flock when its holder dies, kill -9 included: no stale lock to clear.
    """

    def __init__(self, data_dir: str) -> None:
        os.makedirs(data_dir, mode=0o700, exist_ok=True)
        self.path = os.path.join(data_dir, LOCK_FILE)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise DataDirBusy(
                f"data_dir {os.path.abspath(data_dir)} is in use by another hub"
                f"{f' (pid {holder})' if holder else ''}: stop it, or give this hub another"
                " data_dir (two hubs on one database would corrupt each other's state)"
            ) from None
        # The pid is for the message above only; the lock itself is the flock.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd: int | None = fd

    def release(self) -> None:
        """Drop the lock (the process exiting drops it too)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        return str(int(os.pread(fd, 32, 0).split()[0]))
    return ""


def make_private(path: str, suffixes: tuple[str, ...] = ("", "-wal", "-shm", "-journal")) -> None:
    """Create path (empty) if missing, then chmod it and its SQLite side files to 0600.

    Creating the file with mode 0600 before SQLite opens it matters: SQLite gives the -wal
    and -shm files it creates the mode of the database file. The chmod covers files made
    by an earlier version with 0644.
    """
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE))
    for suffix in suffixes:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path + suffix, PRIVATE)
