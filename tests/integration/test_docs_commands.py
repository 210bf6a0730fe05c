"""A new user's path, as written: `make run`, then every shell block of the README and docs/.

One demo stack for the module, started by the README's own `make run` (on a free port base,
with the shared venv: VENV=... NO_INSTALL=1). Each ```sh block then runs in bash, as written,
in a directory that looks like the project's (`.enodo` and `.venv` there), with `set -e` and
curl made to fail on an HTTP error, so a documented command that breaks fails its test. The
one change made to the text: the REST port 8000 becomes the stack's. Blocks that would start
processes or run for long carry `<!-- docs-test: skip (why) -->`. Ctrl-C ends the module.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.stack_env import PORTS, PortError, check_free, choose_ports
from tests.support.docs_blocks import ROOT, Block, all_blocks
from tests.support.waiting import free_port, wait_for

pytestmark = pytest.mark.timeout(300)
BLOCKS = all_blocks()
#: Curl as documented, but an HTTP error fails the block.
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 30 "$@"; }\n'


@dataclass
class DemoStack:
    """The `make run` process group and where a user would stand."""

    proc: subprocess.Popen[bytes]
    user: Path
    run_dir: Path
    api_port: int
    out: Path
    env: dict[str, str]

    def get(self, path: str, token: bool = True) -> tuple[int, object]:
        headers = {}
        if token:
            token_text = (self.run_dir / "hub" / "token").read_text().strip()
            headers["Authorization"] = "Bearer " + token_text
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


def free_base() -> int:
    """A port base whose seven ports are all free now."""
    for _ in range(50):
        base = free_port()
        try:
            check_free(choose_ports({"ENODO_PORT_BASE": str(base)}))
            return base
        except PortError:
            continue
    raise AssertionError("no free port base found")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[DemoStack]:
    first = BLOCKS[0]
    assert first.path.name == "README.md" and first.text.split("#")[0].strip() == "make run"
    tmp = tmp_path_factory.mktemp("new-user")
    run_dir, user, home = tmp / "run", tmp / "project", tmp / "home"
    user.mkdir()
    home.mkdir()
    (user / ".enodo").symlink_to(run_dir)
    (user / ".venv").symlink_to(sys.prefix)
    base = free_base()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": str(ROOT),
           "LANG": "C.UTF-8", "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_STATE_HOME": str(home / ".state")}
    out = tmp / "make-run.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            ["make", "-s", "-C", str(ROOT), "run", f"VENV={sys.prefix}", "NO_INSTALL=1"],
            env={**env, "ENODO_PORT_BASE": str(base), "ENODO_RUN_DIR": str(run_dir)},
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    demo = DemoStack(proc, user, run_dir, base, out, env)
    try:
        wait_for(lambda: proc.poll() is None and b"stay quiet otherwise" in out.read_bytes(),
                 120, "the demo's banner")

        def forecasts() -> bool:
            status, body = demo.get("/series")
            return status == 200 and len(body["series"]) == 5 and all(
                s["jobs"]["forecast"] == "done" for s in body["series"])

        wait_for(forecasts, 180, "a forecast of every demo series")
        yield demo
    finally:
        if proc.poll() is None:
            # SIGTERM first: supervisord then stops its programs, which a SIGKILL of the
            # group would leave running (they are in process groups of their own).
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def test_make_run_says_which_ports_it_took(stack):
    text = stack.out.read_text()
    for port in PORTS:
        assert re.search(rf"\b{stack.api_port + port.offset}\b.*{port.var}", text), port.var
    assert stack.get("/health", token=False) == (200, {"status": "ok"})
    assert stack.get("/ready", token=False)[0] == 200
    # The token is made before the peers start: none of them complains about it.
    for log in (stack.run_dir / "logs").glob("*.log"):
        noise = [line for line in log.read_text().splitlines()
                 if "token" in line.lower() and ("ERROR" in line or "WARNING" in line)]
        assert noise == [], f"{log.name}: {noise}"
    access = (stack.run_dir / "logs" / "api.log").read_text()
    assert '"GET /series HTTP/1.1" 200' in access  # gunicorn's access log is on


@pytest.mark.parametrize("block", BLOCKS[1:], ids=lambda b: b.id)
def test_documented_commands_run_as_written(stack, block: Block):
    if block.skip:
        pytest.skip(block.skip)
    script = re.sub(r"(?<=[:/])8000\b", str(stack.api_port), block.text)
    if "enodo-client watch" in script:
        run_watch(stack, script)
        return
    done = subprocess.run(["bash", "-c", PRELUDE + script], cwd=stack.user, env=stack.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{block.id} failed:\n{done.stdout}\n{done.stderr}"


def run_watch(stack: DemoStack, script: str) -> None:
    """A watch runs until Ctrl-C: wait for its first line of change, then press it."""
    proc = subprocess.Popen(["bash", "-c", "exec " + script.split("#")[0].strip()],
                            cwd=stack.user, env=stack.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the first change; the module timeout bounds it
        assert " demo.cpu " in line, line
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_the_demo_shows_enodo_finding_its_first_planted_incident(stack):
    # The spike comes 86 readings (43 s) into the live feed; through the tee, the listener,
    # the hub, a worker's forecast job and the detector, back to the demo's `found:` line.
    found = "found:   demo.cpu anomaly event found"
    wait_for(lambda: found in stack.out.read_text(), 150,
             "the demo to print that Enodo found the demo.cpu spike")
    text = stack.out.read_text()
    assert text.index(found) > text.index("planted: demo.cpu spike")
    assert "found:   demo.temperature" not in text  # its incident is a day later: quiet


def test_ctrl_c_stops_everything_quickly_and_cleanly(stack):
    started = time.monotonic()
    os.killpg(stack.proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    stack.proc.wait(60)
    took = time.monotonic() - started
    log = (stack.run_dir / "logs" / "supervisord.log").read_text()
    stops = re.findall(r"stopped: (\S+) \((.+?)\)", log)
    assert len(stops) == 7 and all(how == "exit status 0" for _, how in stops), stops
    assert "SIGKILL" not in log
    print(f"\nCtrl-C: the stack stopped in {took:.1f} s")
    assert took < 15  # 10-15 s and a SIGKILLed demo before; about 5 s now (load 5-10)
