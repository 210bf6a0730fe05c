"""docs/configuration.md is what scripts/config_reference.py writes from the tables."""

from __future__ import annotations

from actors.common.config import Option, port
from scripts.config_reference import PROCESSES, ROOT, options_table, render


def test_the_page_is_written_from_the_tables_as_they_are_now():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == render(), (
        "docs/configuration.md differs from the option and settings tables: run "
        "`python -m scripts.config_reference > docs/configuration.md`")


def test_every_key_says_what_it_does():
    undocumented = [f"{o.section}.{o.key}" for p in PROCESSES for o in p.options if not o.doc]
    assert undocumented == []


def test_a_row_shows_default_variable_check_and_secrecy():
    row = options_table([Option("hub", "api_port", int, 5563, port, doc="the <api> | socket"),
                         Option("hub", "token", str, "", secret=True, doc="the token")])[2:]
    assert row == [
        "| `[hub]` `api_port` | `5563` | `ENODO_HUB_API_PORT` | a port number, 0 to 65535 | "
        "the \\<api> \\| socket |",
        "| `[hub]` `token` | (empty) | `ENODO_HUB_TOKEN` | text | the token *(secret)* |",
    ]
