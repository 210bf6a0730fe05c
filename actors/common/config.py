"""One config object per process: named defaults, an INI file, ENODO_<SECTION>_<KEY> overrides.

Every option is declared once with its type and default; loading validates all of
them and raises ConfigError naming the bad key and where its value came from.
"""

from __future__ import annotations

import configparser
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], str | None]


#: Keys earlier versions read and this one no longer does: a file that still sets one
#: starts with a warning (an upgrade must not stop the process), anything else unknown
#: is an error.
RETIRED: dict[tuple[str, str], str] = {
    ("hub", "jobs_port"): "jobs go over each worker's control session (no jobs socket)",
    ("worker", "jobs_port"): "jobs go over the worker's control session (no jobs socket)",
}

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Option:
    """One config key: section, name, type, default, an optional check, what it does.

    `doc` is the key's line in docs/configuration.md (python -m scripts.config_reference);
    a check's docstring, first line, says there what values it takes.
    """

    section: str
    key: str
    type: type
    default: Any
    check: Check | None = None
    secret: bool = False
    doc: str = ""

    @property
    def env_name(self) -> str:
        """The environment variable that overrides this option."""
        return f"ENODO_{self.section}_{self.key}".upper()


def port(value: int) -> str | None:
    """Check for a port number, 0 to 65535."""
    return None if 0 <= value <= 65535 else "must be a port number 0-65535"


def positive(value: float) -> str | None:
    """Check for a number > 0."""
    return None if value > 0 else "must be > 0"


def non_negative(value: float) -> str | None:
    """Check for a number >= 0."""
    return None if value >= 0 else "must be >= 0"


def one_of(*choices: str) -> Check:
    """Check that a string is one of choices."""

    def check(value: str) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(choices)

    check.__doc__ = "Check for one of " + ", ".join(choices) + "."
    return check


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(option: Option, raw: str) -> Any:
    if option.type is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError("must be a boolean (true/false)")
    if option.type is int:
        return int(raw.strip())
    if option.type is float:
        return float(raw.strip())
    return raw.strip()


class Config:
    """Validated settings of one process, read as config.get('section', 'key')."""

    def __init__(
        self,
        values: Mapping[tuple[str, str], Any],
        sources: Mapping,
        secret_files: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._values = dict(values)
        self.sources = dict(sources)
        #: (file, "section.key") of every non-empty secret whose value came from a file.
        self.secret_files = list(secret_files)

    def get(self, section: str, key: str) -> Any:
        """Return the value of section.key (KeyError for an undeclared option)."""
        return self._values[(section, key)]

    def section(self, section: str) -> dict[str, Any]:
        """Return all options of one section as a dict."""
        return {k: v for (s, k), v in self._values.items() if s == section}


def load_config(
    options: Iterable[Option],
    path: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read defaults, then the INI file at path, then environment overrides; validate all."""
    env = os.environ if env is None else env
    options = list(options)
    known = {(o.section, o.key): o for o in options}
    raw: dict[tuple[str, str], tuple[str, str]] = {}
    if path:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path, encoding="utf-8") as fh:
                parser.read_file(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except configparser.Error as exc:
            raise ConfigError(f"config file {path} is not valid INI: {exc}") from None
        for section in parser.sections():
            for key, value in parser.items(section, raw=True):
                if (section, key) in RETIRED and (section, key) not in known:
                    log.warning("%s.%s (in %s) is no longer used and is ignored: %s", section,
                                key, path, RETIRED[(section, key)])
                    continue
                if (section, key) not in known:
                    raise ConfigError(f"{section}.{key}: unknown option (in {path})")
                raw[(section, key)] = (value, path)
    for option in options:
        if option.env_name in env:
            raw[(option.section, option.key)] = (env[option.env_name], option.env_name)
    values: dict[tuple[str, str], Any] = {}
    sources: dict[tuple[str, str], str] = {}
    for name, option in known.items():
        value, source = option.default, "default"
        if name in raw:
            text, source = raw[name]
            try:
                value = _convert(option, text)
            except ValueError as exc:
                detail = str(exc) if option.type is bool else f"must be {option.type.__name__}"
                shown = "***" if option.secret else repr(text)
                raise ConfigError(
                    f"{option.section}.{option.key}: {detail}, got {shown} (from {source})"
                ) from None
        if option.check is not None and value is not None:
            problem = option.check(value)
            if problem:
                raise ConfigError(f"{option.section}.{option.key}: {problem} (from {source})")
        values[name] = value
        sources[name] = source
    secret_files = [
        (sources[name], f"{o.section}.{o.key}")
        for name, o in known.items()
        if o.secret and values[name] and name in raw and sources[name] == path
    ]
    return Config(values, sources, secret_files)


def siridb_options(section: str, host: str = "127.0.0.1") -> list[Option]:
    """The keys of a SiriDB connection section ([siridb], [siridb_output])."""
    return [
        Option(section, "host", str, host, doc="SiriDB server's host name or address "
               "(empty: no SiriDB configured)"),
        Option(section, "port", int, 9000, port, doc="SiriDB's client port"),
        Option(section, "user", str, "iris", doc="SiriDB user"),
        Option(section, "password", str, "siri", secret=True,
               doc="that user's password (prefer ENODO_<SECTION>_PASSWORD to a file)"),
        Option(section, "database", str, "enodo", doc="SiriDB database"),
    ]
