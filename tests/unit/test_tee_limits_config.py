"""The listener's tee limits: defaults, the shipped file, and inconsistent values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.common.config import ConfigError, load_config
from actors.listener.config import OPTIONS, tee_limits_from_config
from actors.listener.tee_limits import TeeLimits

LISTENER_CONF = Path(__file__).resolve().parents[2] / "configs" / "listener.conf"


def limits(path: str | None = None, **env: str) -> TeeLimits:
    variables = {f"ENODO_LISTENER_{key.upper()}": value for key, value in env.items()}
    return tee_limits_from_config(load_config(OPTIONS, path, variables))


def test_defaults_and_the_shipped_file_agree():
    assert limits() == limits(str(LISTENER_CONF)) == TeeLimits()
    default = TeeLimits()
    assert default.max_package_size == 64 << 20 and default.max_buffered == 128 << 20
    assert default.max_connections == 64 and default.package_timeout == 60
    assert default.sweep_interval == 1.0


@pytest.mark.parametrize("env,key", [
    ({"max_buffered": "1000", "max_package_size": "2000"}, "listener.max_buffered"),
    ({"max_connections": "0"}, "listener.max_connections"),
    ({"package_timeout": "0"}, "listener.package_timeout"),
    ({"idle_timeout": "-1"}, "listener.idle_timeout"),
])
def test_inconsistent_limits_name_their_key(env, key):
    with pytest.raises(ConfigError, match=key):
        limits(**env)


def test_idle_timeout_zero_means_never_and_the_sweep_follows_the_package_timeout():
    assert TeeLimits(idle_timeout=0, package_timeout=2).sweep_interval == 0.5
