"""Debian's Chromium for the browser tests and ``make screenshots``, driven by Playwright.

Playwright cannot download its own browser here, so it launches ``/usr/bin/chromium``
(installed by ``scripts/install-chromium.sh`` when missing) with flags for a headless run that
reaches no network service of its own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

INSTALLER = Path(__file__).resolve().parent / "install-chromium.sh"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def ensure_chromium() -> tuple[str | None, str]:
    """``(path, "")`` when Chromium is (or could be) installed, else ``(None, why not)``."""
    if not shutil.which("chromium"):
        result = subprocess.run(
            ["bash", str(INSTALLER)], capture_output=True, text=True, timeout=1200, check=False
        )
        if result.returncode != 0:
            return None, (result.stderr or result.stdout).strip()[-2000:]
    path = shutil.which("chromium")
    return (path, "") if path else (None, "chromium is not on PATH after installing it")


def launch(playwright, executable: str):
    """A headless Chromium browser (a Playwright ``Browser``)."""
    return playwright.chromium.launch(executable_path=executable, args=ARGS)
