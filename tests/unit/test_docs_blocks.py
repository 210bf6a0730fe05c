"""The docs test's own parts: which blocks it finds, and that a broken command fails it."""

from __future__ import annotations

import http.server
import subprocess
import threading

from tests.integration.test_docs_commands import PRELUDE
from tests.support.docs_blocks import all_blocks, sh_blocks


def test_blocks_found_and_every_skip_has_a_reason():
    blocks = all_blocks()
    assert blocks[0].id == "README.md:9" and blocks[0].text.startswith("make run")
    run = [b for b in blocks if not b.skip]
    assert {b.path.name for b in run} == {
        "README.md", "api.md", "client.md", "alerts.md", "rules.md", "deploy.md"}
    assert all(b.skip is None or len(b.skip) > 10 for b in blocks)


def test_a_block_after_a_skip_marker_is_skipped(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- docs-test: skip (starts a server) -->\n```sh\nserve\n```\n\n"
                    "```sh\necho hi\n```\n```text\nnot a command\n```\n")
    first, second = sh_blocks(page)
    assert (first.skip, first.text) == ("starts a server", "serve\n")
    assert (second.skip, second.text, second.line) == (None, "echo hi\n", 6)


class NotFound(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(404)
        self.end_headers()
        self.wfile.write(b'{"error": {"code": "not_found", "message": "no"}}')

    def log_message(self, *args: object) -> None:
        pass


def test_a_documented_curl_that_gets_an_error_fails_its_block():
    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/series"
        done = subprocess.run(["bash", "-c", PRELUDE + f"curl -s {url}\necho after\n"],
                              capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
    assert done.returncode != 0 and "after" not in done.stdout
