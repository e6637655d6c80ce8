"""Headless Chromium for browser tests, through Playwright pointed at Debian's /usr/bin/chromium.

Playwright's own browser download is not used (it cannot be reached here). Where no Chromium
exists the test skips with a clear message, except when QA_REQUIRE_BROWSER=1 (set by .ci/run),
where a missing browser fails the test so CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("QA_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def require_browser() -> str:
    """Path of Chromium, or skip (fail under QA_REQUIRE_BROWSER=1) with the reason."""
    path = chromium_path()
    reason = None
    if path is None:
        reason = "no Chromium found (install Debian's 'chromium' package: apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (pip install -e '.[test]')"
    if reason:
        if os.environ.get("QA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test cannot run: {reason}; QA_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(f"browser test skipped: {reason}")
    return path


@contextmanager
def browser_page(**context_options):
    """A Playwright page in headless Chromium; closes everything on exit."""
    from playwright.sync_api import sync_playwright

    path = require_browser()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(**context_options)
            page = context.new_page()
            yield page
        finally:
            browser.close()
