"""Browser tests: real Chromium (Debian's package, installed here when missing) driven by
Playwright, against the review page served on 127.0.0.1 from a real queue with espeak-ng clips.

They skip only when Chromium cannot be installed (the reason is printed); everything else that
goes wrong fails.
"""

from __future__ import annotations

import pytest
from scripts.chromium import ensure_chromium, launch


@pytest.fixture(scope="session")
def chromium():
    """A launched headless Chromium (one per session)."""
    from playwright.sync_api import sync_playwright

    path, why = ensure_chromium()
    if path is None:
        print(f"\nbrowser tests skipped: chromium cannot be installed: {why}")
        pytest.skip(f"chromium cannot be installed: {why}")
    with sync_playwright() as playwright:
        browser = launch(playwright, path)
        yield browser
        browser.close()
