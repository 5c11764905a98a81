"""Real Chromium for the token-service tests, driven by Playwright (no browser download).

Debian's ``chromium`` (``/usr/bin/chromium``, or ``JWTKIT_CHROMIUM``) is launched through
Playwright's ``executable_path``; ``scripts/test`` installs it when it is missing. Without it,
or without Playwright, the browser tests skip and say why. ``--host-resolver-rules`` maps test
host names onto 127.0.0.1, so a page can come from a real loopback server under another site.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Flags for a closed network (no background connections that the sandbox would refuse).
_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots are test artifacts, kept outside the repository (never committed).
ARTIFACTS = Path(
    os.environ.get("JWTKIT_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "jwtkit-artifacts")
)
# Host names the tests use for pages of another site; all served on 127.0.0.1.
TEST_HOSTS = ("attacker.test",)


def chromium_path() -> str:
    """Return the Chromium executable, or skip the test visibly."""
    path = os.environ.get("JWTKIT_CHROMIUM") or shutil.which("chromium") or ""
    if not path or not os.access(path, os.X_OK):
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module (a launch costs about two seconds)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency.
        pytest.skip("browser tests need Playwright for Python (pip install playwright)")
    rules = ", ".join(f"MAP {host} 127.0.0.1" for host in TEST_HOSTS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=[*_FLAGS, f"--host-resolver-rules={rules}"]
        )
        try:
            yield launched
        finally:
            launched.close()
