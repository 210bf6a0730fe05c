"""Logging set-up shared by the actors."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str, name: str) -> logging.Logger:
    """Log to stderr with timestamps and the actor's name; return the actor's logger."""
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format=f"%(asctime)s {name}[%(process)d] %(levelname)s %(name)s: %(message)s",
    )
    return logging.getLogger(name)
