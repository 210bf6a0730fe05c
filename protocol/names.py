"""Series names as the wire carries them: any non-empty text without NUL, at most 65535 bytes."""

from __future__ import annotations

from typing import Annotated

from protocol.typed import Meta, Shape

MAX_NAME_BYTES = 65535  # SiriDB's limit on a series name
#: No NUL: SiriDB cuts a query at one, so such a series could never be read back.
NO_NUL = "^[^\x00]*$"

#: The checks msgspec makes while decoding; the byte length needs `name_length_problem`.
SeriesName = Annotated[str, Meta(min_length=1, max_length=MAX_NAME_BYTES, pattern=NO_NUL)]


def name_length_problem(value: str) -> str | None:
    """Why value is too long in UTF-8 for a series name, or None."""
    # UTF-8 takes at most 4 bytes a character: only long names need encoding to measure.
    if len(value) > MAX_NAME_BYTES // 4 and len(value.encode()) > MAX_NAME_BYTES:
        return f"longer than {MAX_NAME_BYTES} bytes"
    return None


def name_problem(value: str) -> str | None:
    """Why value cannot be a series name, or None (for names outside a decoded body)."""
    if not value:
        return "must not be empty"
    if "\x00" in value:
        return "must not contain NUL"
    return name_length_problem(value)


class Named(Shape):
    """Params naming one series."""

    name: SeriesName

    def __post_init__(self) -> None:
        problem = name_length_problem(self.name)
        if problem:
            raise ValueError(f"'name' {problem}")
