"""A small webhook receiver for Enodo's alerts: each POST checked, kept, written to a file.

The demo (`make run`) starts one and registers it as the webhook output `demo`; the tests
use it as their real HTTP receiver. Run alone:

    python -m scripts.alert_receiver --port 9130 --file alerts.jsonl [--secret S]

Each alert is one JSON line in the file (and one log line); with a secret, a POST whose
X-Enodo-Signature is not the body's HMAC-SHA256 is refused (401) and not kept.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger("enodo.alert-receiver")


class AlertReceiver:
    """An HTTP server on a thread; `alerts` holds every payload taken, in arrival order.

    fail: answer 500 to this many POSTs first; answers: then answer these statuses, one
    per POST (e.g. [401] or [503, 429]), without keeping the payloads; delay: seconds to
    hold each answer; path: a file each payload is appended to as a JSON line; on_alert:
    called with each.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, secret: str = "",
                 path: Path | None = None, fail: int = 0, delay: float = 0.0,
                 on_alert: Callable[[dict[str, Any]], None] | None = None,
                 answers: list[int] | None = None) -> None:
        self.secret, self.path, self.fail, self.delay = secret, path, fail, delay
        self.answers = deque(answers or [])
        self.on_alert = on_alert
        self.alerts: list[dict[str, Any]] = []
        self.posts = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.release = threading.Event()  # set: answer at once despite delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(receiver.take(body, self.headers.get("X-Enodo-Signature")))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet: each alert is logged once, by take()."""

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="alert-receiver")

    def take(self, body: bytes, signature: str | None) -> int:
        """Check and keep one POST body; the HTTP status to answer."""
        with self.lock:
            self.posts += 1
        if self.delay and not self.release.is_set():
            self.release.wait(self.delay)
        with self.lock:
            if self.fail > 0:  # checked after the delay: a held POST may still be refused
                self.fail -= 1
                return 500
            if self.answers:
                return self.answers.popleft()
        if self.secret:
            expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, signature or ""):
                with self.lock:
                    self.refused += 1
                return 401
        try:
            alert = json.loads(body)
        except ValueError:
            return 400
        with self.lock:
            self.alerts.append(alert)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(alert) + "\n")
        if isinstance(alert, dict):
            log.info("alert %s %s %s: %s", alert.get("status"), alert.get("kind"),
                     alert.get("series") or "-", alert.get("summary"))
        else:  # an Alertmanager client's POST: a list of alerts
            log.info("%d alerts in one POST", len(alert) if isinstance(alert, list) else 0)
        if self.on_alert is not None:
            self.on_alert(alert)
        return 200

    def start(self) -> AlertReceiver:
        """Serve on the thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(prog="alert-receiver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9130)
    parser.add_argument("--file", type=Path, required=True, help="append each alert here")
    parser.add_argument("--secret", default="", help="check X-Enodo-Signature with it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    receiver = AlertReceiver(args.host, args.port, args.secret, args.file)
    log.info("taking alerts at %s, writing them to %s", receiver.url, args.file)
    try:
        receiver.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
