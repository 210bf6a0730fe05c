"""CURVE keys from config or certificate files, the hub's generated on first use.

Files use ZeroMQ's certificate format (what `zmq.auth.create_certificates` writes and
`zmq.auth.load_certificate` reads): the hub keeps `<data_dir>/hub.key_secret` (mode
0600, both keys) and `<data_dir>/hub.key` (the public key, for peers to read).
"""

from __future__ import annotations

import datetime
import logging
import os

import zmq
import zmq.auth

from actors.common.auth import exposed, write_private, write_public
from actors.common.config import ConfigError
from protocol.curve import CurveClient, CurveServer, check_z85_key, curve_available
from protocol.errors import TransportError

log = logging.getLogger("enodo.auth")

SECRET_CERT_NAME = "hub.key_secret"


def public_cert_path(secret_path: str) -> str:
    """Where the public certificate of a secret certificate file lives."""
    if secret_path.endswith("_secret"):
        return secret_path[: -len("_secret")]
    return secret_path + ".public"


def cert_text(public_key: bytes, secret_key: bytes | None = None) -> str:
    """Return a certificate in ZeroMQ's format (with the secret key when given)."""
    kind = "Secret" if secret_key else "Public"
    lines = [
        f"#   ****  Generated on {datetime.datetime.now():%Y-%m-%d %H:%M:%S} by enodo-hub  ****",
        f"#   ZeroMQ CURVE {kind} Certificate",
        "",
        "metadata",
        "curve",
        f'    public-key = "{public_key.decode("ascii")}"',
    ]
    if secret_key:
        lines.append(f'    secret-key = "{secret_key.decode("ascii")}"')
    return "\n".join(lines) + "\n"


def hub_curve(
    enabled: bool, secret_key: str, secret_key_file: str, data_dir: str
) -> tuple[CurveServer | None, str | None]:
    """Return the hub's CURVE server settings and its public certificate file (or None).

    The secret key comes from `secret_key`, else from `secret_key_file` (default
    `<data_dir>/hub.key_secret`), generated there with its public twin when missing.
    """
    if not enabled:
        return None, None
    if not curve_available():
        raise ConfigError("hub.curve: this libzmq has no CURVE support (built without libsodium)")
    if secret_key:
        problem = check_z85_key(secret_key)
        if problem:
            raise ConfigError(f"hub.curve_secret_key: {problem}")
        return CurveServer(secret_key.encode("ascii")), None
    path = secret_key_file or os.path.join(data_dir, SECRET_CERT_NAME)
    public_path = public_cert_path(path)
    try:
        public, secret = zmq.curve_keypair()
        if write_private(path, cert_text(public, secret)):
            log.info("generated the hub's CURVE keys: %s (public: %s)", path, public_path)
        public, secret = zmq.auth.load_certificate(path)
        if secret is None:
            raise ValueError("no secret-key in it")
        server = CurveServer(secret)
        if server.public_key != public:
            raise ValueError("its public-key does not belong to its secret-key")
        if exposed(os.stat(path).st_mode):
            log.warning("CURVE secret key file %s is readable by others: chmod 600 %s",
                        path, path)
        # Peers read the public certificate: (re)write it when it is missing or stale,
        # whole or not at all (it is copied to other hosts as soon as it appears).
        if _read_public(public_path) != public:
            write_public(public_path, cert_text(public))
    except (OSError, ValueError, TransportError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"hub.curve_secret_key_file: cannot use {path}: {reason}") from None
    return server, public_path


def _read_public(path: str) -> bytes | None:
    try:
        return zmq.auth.load_certificate(path)[0]
    except (OSError, ValueError):
        return None


def client_curve(section: str, server_key: str, server_key_file: str) -> CurveClient | None:
    """Return a peer's CURVE client settings, or None when no server key is configured.

    The server key is `<section>.curve_server_key` (Z85), else the public key in the
    certificate file `<section>.curve_server_key_file` (e.g. the hub's `hub.key`).
    """
    if not server_key and not server_key_file:
        return None
    if not curve_available():
        raise ConfigError(f"{section}.curve_server_key: this libzmq has no CURVE support")
    if server_key:
        problem = check_z85_key(server_key)
        if problem:
            raise ConfigError(f"{section}.curve_server_key: {problem}")
        return CurveClient.for_server(server_key.encode("ascii"))
    try:
        public = zmq.auth.load_certificate(server_key_file)[0]
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{section}.curve_server_key_file: cannot read {server_key_file}: {exc}"
        ) from None
    if check_z85_key(public.decode("ascii", "replace")):
        raise ConfigError(f"{section}.curve_server_key_file: {server_key_file} holds no CURVE key")
    return CurveClient.for_server(public)
