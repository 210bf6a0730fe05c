"""Write docs/configuration.md from the tables it documents.

    python -m scripts.config_reference > docs/configuration.md

The sources: each process's option table (`actors/*/config.py`, `api/config.py`,
`scripts/client_config.py`: key, type, default, check, `doc`), the runtime settings
(`protocol/settings.py`), the ports of `make run` (`scripts/stack_env.py`) and gunicorn's
variables (the docstring of `configs/gunicorn.conf.py`). tests/unit/test_config_reference.py
fails when the page differs from what this prints.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from actors.common.config import RETIRED, Option
from actors.hub.config import OPTIONS as HUB
from actors.listener.config import OPTIONS as LISTENER
from actors.worker.config import OPTIONS as WORKER
from api.config import CONFIG_ENV
from api.config import OPTIONS as API
from protocol.settings import defaults, rules
from scripts.client_config import OPTIONS as CLIENT
from scripts.stack_env import PORTS, ROOT

GUNICORN_CONF = ROOT / "configs" / "gunicorn.conf.py"


@dataclass(frozen=True)
class Process:
    """One program and the options it reads."""

    title: str
    how: str  # how it is started, or where its file is
    options: Iterable[Option]


PROCESSES = (
    Process("Hub (`enodo-hub`)", "Run as `enodo-hub --config configs/hub.conf`.", HUB),
    Process("Listener (`enodo-listener`)",
            "Run as `enodo-listener --config configs/listener.conf`.", LISTENER),
    Process("Worker (`enodo-worker`)",
            "Run as `enodo-worker --config configs/worker.conf [--id N]`.", WORKER),
    Process("REST API (gunicorn)",
            f"Run as `{CONFIG_ENV}=configs/api.conf gunicorn -c configs/gunicorn.conf.py "
            "api.wsgi:app`.", API),
    Process("Client (`enodo-client`)",
            "Its file is `$ENODO_CLIENT_CONFIG`, else `~/.config/enodo/client.conf`; a flag "
            "wins over both ([client.md](client.md)).", CLIENT),
)

INTRO = """\
# Configuration

<!-- Written by `python -m scripts.config_reference > docs/configuration.md`; edit the
tables it reads, not this page (tests/unit/test_config_reference.py compares them). -->

Every key of every process, every runtime setting and every port of `make run`, written
from the tables the code reads: each process's option table (`actors/hub/config.py`,
`actors/listener/config.py`, `actors/worker/config.py`, `api/config.py`,
`scripts/client_config.py`), the runtime settings (`protocol/settings.py`) and the ports
(`scripts/stack_env.py`).

## How a process reads its configuration

Each process starts from its defaults, reads an INI file if given one, then takes
environment variables `ENODO_<SECTION>_<KEY>` (e.g. `ENODO_SIRIDB_HOST=db1`), which win.
Every value is checked at start: a bad one, or an unknown key in the file, stops the
process with a message naming the key and where the value came from. The shipped files in
`configs/` set the defaults and say what each key is for. A key marked *secret* is better
given in the environment: a config file holding one that group or others can read draws a
warning at start, naming the file and the key; secrets never appear in a log line or an
endpoint. Keys that earlier versions read are ignored with a warning:
"""


SECOND_STACK = """\
A second stack, from the same checkout, beside the first:

<!-- docs-test: skip (starts a second stack; the docs test runs the first on a port base) -->
```sh
ENODO_PORT_BASE=18000 ENODO_RUN_DIR=/tmp/enodo2 make run
ENODO_CLIENT_HUB=tcp://127.0.0.1:18003 ENODO_CLIENT_TOKEN_FILE=/tmp/enodo2/hub/token \\
  .venv/bin/enodo-client list
```"""


def _default(option: Option) -> str:
    value = option.default
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _rule(option: Option) -> str:
    """What values the key takes: its type, and its check's docstring (first line)."""
    kind = {bool: "true or false", int: "integer", float: "number", str: "text"}[option.type]
    if option.check is None:
        return kind
    said = (inspect.getdoc(option.check) or "").splitlines()[0].rstrip(".")
    return said.removeprefix("Check for ").removeprefix("Check that ")


def _cell(text: str) -> str:
    """Text for a table cell: a `|` would end it, a `<` could open an HTML tag."""
    return text.replace("|", "\\|").replace("<", "\\<")


def options_table(options: Iterable[Option]) -> list[str]:
    """The table of one process's keys, by section."""
    lines = ["| key | default | variable | values | meaning |", "|---|---|---|---|---|"]
    for o in options:
        doc = o.doc + (" *(secret)*" if o.secret else "")
        lines.append(f"| `[{o.section}]` `{o.key}` | {_default(o)} | `{o.env_name}` | "
                     f"{_cell(_rule(o))} | {_cell(doc)} |")
    return lines


def settings_table() -> list[str]:
    """The runtime settings: key, default, range, meaning."""
    lines = ["| key | default | values | meaning |", "|---|---|---|---|"]
    values = defaults()
    for key, (bounds, doc) in rules().items():
        lines.append(f"| `{key}` | `{values[key]}` | {bounds} | {_cell(doc)} |")
    return lines


def ports_table() -> list[str]:
    """The ports of `make run`: default, offset from ENODO_PORT_BASE, variable, listener."""
    lines = ["| port | offset | variable | what listens |", "|---|---|---|---|"]
    for p in PORTS:
        ports = ", ".join(str(p.default + n) for n in range(p.span))
        offsets = ", ".join(str(p.offset + n) for n in range(p.span))
        lines.append(f"| {ports} | {offsets} | `{p.var}` | {p.what} |")
    return lines


def gunicorn_variables() -> str:
    """The paragraph of configs/gunicorn.conf.py's docstring that lists its variables."""
    doc = ast.get_docstring(ast.parse(GUNICORN_CONF.read_text(encoding="utf-8"))) or ""
    paragraph = next(p for p in doc.split("\n\n") if p.startswith("Environment overrides"))
    return " ".join(paragraph.split())


def render() -> str:
    """The whole page."""
    out = [INTRO]
    out += [f"- `[{section}]` `{key}`: {why}" for (section, key), why in sorted(RETIRED.items())]
    for process in PROCESSES:
        out += ["", f"## {process.title}", "", process.how, ""]
        out += options_table(process.options)
    out += ["", "The REST API's gunicorn settings (`configs/gunicorn.conf.py`) are read from "
            "the environment only. " + gunicorn_variables()]
    out += ["", "## Runtime settings", "",
            "Kept by the hub and changed while it runs, all keys valid or nothing changes: "
            "`POST /settings` ([api.md](api.md)), the console's Settings page, or "
            "`enodo-client settings` ([client.md](client.md)). Jobs carry the ones a worker "
            "needs.", ""]
    out += settings_table()
    out += ["", "## Ports of `make run`", "",
            "`make run` checks every port before it starts anything and refuses, naming the "
            "port and its variable, when one is taken. `ENODO_PORT_BASE=N` moves them all "
            "(port `N + offset`), a variable per port moves one, `ENODO_RUN_DIR` puts state "
            "and logs elsewhere than `.enodo`. Each process's own variables are derived from "
            "this table; `make run` also names any `ENODO_*` variable no part of Enodo "
            "reads, with a guess at what was meant.", ""]
    out += ports_table()
    out += ["", SECOND_STACK]
    return "\n".join(out) + "\n"


def main() -> int:
    """Print the page."""
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
