"""The software version every peer announces in its HANDSHAKE."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def software_version() -> str:
    """Return the installed Enodo version ("0+unknown" when run from a bare checkout)."""
    try:
        return version("enodo")
    except PackageNotFoundError:
        return "0+unknown"
