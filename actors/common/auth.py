"""Shared secrets on disk: the hub's token, files only their owner may read, exposed configs.

The hub requires a token in every HANDSHAKE (and in every API_REQUEST on its api
socket). When none is configured it makes one on its first start and keeps it in
`<data_dir>/token` (mode 0600); peers on the same machine read that file through their
`token_file` option, so nobody has to copy the token by hand. Secrets never appear in
messages of this module: files and keys are named, values never.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Callable

from actors.common.config import Config, ConfigError

log = logging.getLogger("enodo.auth")

TOKEN_FILE_NAME = "token"
#: The hub's default data_dir (actors/hub/config.py) and so the token file of a one-machine
#: install, which peers read by default.
DEFAULT_HUB_DATA_DIR = ".enodo/hub"
DEFAULT_TOKEN_FILE = os.path.join(DEFAULT_HUB_DATA_DIR, TOKEN_FILE_NAME)
#: Bits of the mode that let anyone but the owner read or write a file.
NOT_OWNER = 0o077


def exposed(mode: int) -> bool:
    """True when a file of this mode can be read (or written) by group or others."""
    return bool(stat.S_IMODE(mode) & NOT_OWNER)


def new_token() -> str:
    """Return a fresh random token: 256 bits as 64 hex digits (never starts with "-")."""
    return secrets.token_hex(32)


def _written_beside(path: str, text: str, mode: int) -> str:
    """A temporary file beside path holding text (synced, with exactly `mode`); its name."""
    tmp = os.path.join(os.path.dirname(path) or ".",
                       f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits away; never added any
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def write_private(path: str, text: str, mode: int = 0o600) -> bool:
    """Create path holding text with `mode`, atomically and only if it does not exist.

    The file is written under a temporary name and linked into place, so a reader
    never sees it half written. Returns False when path already existed.
    """
    os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
    tmp = _written_beside(path, text, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def write_public(path: str, text: str, mode: int = 0o644) -> None:
    """Write path holding text with `mode`, replacing it atomically: written under a
    temporary name and renamed into place, so a reader (a peer's operator copying the file
    the moment it appears) never sees it empty or half written."""
    tmp = _written_beside(path, text, mode)
    try:
        os.replace(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise


def read_secret(path: str) -> str:
    """Return the stripped text of a secret file (OSError, UnicodeDecodeError as open())."""
    with open(path, encoding="utf-8") as fh:
        return fh.read().strip()


def hub_token(token: str, token_file: str, data_dir: str) -> tuple[str, str | None]:
    """Return the hub's token and the file holding it (None when configured inline).

    Without `token`, the token is read from `token_file` (default `<data_dir>/token`);
    when that file does not exist, a new token is written to it with mode 0600.
    """
    if token.strip():
        return token.strip(), None
    path = token_file or os.path.join(data_dir, TOKEN_FILE_NAME)
    try:
        if write_private(path, new_token() + "\n"):
            log.info("generated the hub token in %s", path)
        value = read_secret(path)
        mode = os.stat(path).st_mode
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"hub.token_file: cannot use {path}: {reason}") from None
    if not value:
        raise ConfigError(f"hub.token_file: {path} is empty (delete it to have one generated)")
    if exposed(mode):
        log.warning("token file %s is readable by others (mode %o): chmod 600 %s",
                    path, stat.S_IMODE(mode), path)
    return value, path


class TokenSource:
    """A peer's token: configured inline, or read from a file and re-read when it changes.

    Call it for the current token ("" when there is none yet: the file may appear
    once the hub has started). Each problem with the file is logged once.
    """

    def __init__(self, token: str = "", path: str = "", what: str = "token") -> None:
        self.token = token.strip()
        self.path = path
        self.what = what
        self._stamp: tuple[int, ...] | None = None
        self._value = ""
        self._noted = ""

    @property
    def configured(self) -> bool:
        """True when a token or a token file is configured."""
        return bool(self.token or self.path)

    def __call__(self) -> str:
        if self.token or not self.path:
            return self.token
        try:
            st = os.stat(self.path)
            stamp = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
            if stamp != self._stamp:
                self._value = read_secret(self.path)
                self._stamp = stamp
                if exposed(st.st_mode):
                    self._note(f"{self.what} file {self.path} is readable by others "
                               f"(mode {stat.S_IMODE(st.st_mode):o}): chmod 600 {self.path}")
        except (OSError, UnicodeDecodeError) as exc:
            self._stamp, self._value = None, ""
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            self._note(f"cannot read the {self.what} file {self.path}: {reason}")
        return self._value

    def _note(self, problem: str) -> None:
        if problem != self._noted:
            log.warning("%s", problem)
            self._noted = problem


def token_source(config: Config, section: str, key: str = "token") -> TokenSource:
    """Return the TokenSource of `<section>.<key>` and `<section>.<key>_file`."""
    return TokenSource(
        config.get(section, key), config.get(section, key + "_file"), key.replace("_", " ")
    )


def exposed_config_secrets(config: Config) -> list[str]:
    """Return a warning per secret set in a config file that others may read."""
    warnings: list[str] = []
    modes: dict[str, int | None] = {}
    for path, name in config.secret_files:
        if path not in modes:
            try:
                modes[path] = os.stat(path).st_mode
            except OSError:
                modes[path] = None
        mode = modes[path]
        if mode is not None and exposed(mode):
            warnings.append(
                f"config file {path} holds the secret {name} but is readable by others "
                f"(mode {stat.S_IMODE(mode):o}): chmod 600 {path}, or set it in the environment"
            )
    return warnings


def warn_exposed_secrets(config: Config, warn: Callable[[str], None] | None = None) -> int:
    """Log (or pass to warn) a warning per exposed secret; return how many there were."""
    found = exposed_config_secrets(config)
    for text in found:
        (warn or log.warning)(text)
    return len(found)
