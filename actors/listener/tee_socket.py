"""The tee's Unix socket file: what may be removed before binding it again."""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat

log = logging.getLogger(__name__)


class TeeServerError(Exception):
    """The tee server cannot start (e.g. its Unix socket path is in use)."""


def remove_stale_socket(path: str) -> None:
    """Remove a socket file nobody listens on; TeeServerError for a live one or a non-socket."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise TeeServerError(f"{path} exists and is not a socket; not removing it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError as exc:
        if exc.errno not in (errno.ECONNREFUSED, errno.ENOENT):
            raise TeeServerError(f"cannot check the socket {path}: {exc}") from exc
    else:
        raise TeeServerError(f"another process is listening on {path}")
    finally:
        probe.close()
    log.info("tee: removing stale socket %s", path)
    os.unlink(path)
