"""A headless Chromium driven by selenium (Debian's chromium and chromium-driver).

`make test` installs both when run as root (the Makefile's `browser` target); without them
and without root the browser tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Flags that keep the browser off the network and out of the way of other users.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")


def require_chromium() -> None:
    """Skip (not root) or fail (root: the set-up should have installed it) without chromium."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if not missing:
        return
    message = (f"{' and '.join(missing)} missing: install Debian's chromium and "
               "chromium-driver (`make test` does it when run as root)")
    if os.geteuid() != 0:
        pytest.skip(message)
    pytest.fail(message)


def start_chromium(profile: Path | None = None):  # noqa: ANN201 - selenium's WebDriver
    """A new headless Chromium with a fresh profile that logs the page's console."""
    require_chromium()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile or tempfile.mkdtemp(prefix='enodo-chromium-')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def console_errors(driver) -> list[str]:  # noqa: ANN001 - selenium's WebDriver
    """The page's console messages at level SEVERE since the last call (read clears them)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
