"""The shell blocks of the README and docs/: what the docs test runs, as written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: A line right before a block that the docs test does not run, with the reason why.
SKIP = re.compile(r"^<!-- docs-test: skip \((.+)\) -->$")


@dataclass(frozen=True)
class Block:
    """One ```sh block: where it is, its text, and why it is not run (None: it is)."""

    path: Path
    line: int
    text: str
    skip: str | None

    @property
    def id(self) -> str:
        """path:line, for test ids."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_files(root: Path = ROOT) -> list[Path]:
    """The README and every page of docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def sh_blocks(path: Path) -> list[Block]:
    """Every ```sh block of a markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i
            i += 1
            body = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            before = lines[start - 1].strip() if start else ""
            match = SKIP.match(before)
            blocks.append(Block(path, start + 1, "\n".join(body) + "\n",
                                match.group(1) if match else None))
        i += 1
    return blocks


def all_blocks(root: Path = ROOT) -> list[Block]:
    """Every ```sh block of the README and docs/."""
    return [block for path in doc_files(root) for block in sh_blocks(path)]
