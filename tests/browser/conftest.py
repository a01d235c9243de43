"""Browser tests: Playwright for Python driving Debian's Chromium, axe-core from npm.

They run whenever ``/usr/bin/chromium`` (``make setup`` installs it), the
``playwright`` package and ``tests/browser/node_modules/axe-core`` are present,
and are skipped with a notice in the summary otherwise; CI sets
``CROSSWALK_REQUIRE_BROWSER=1``, which turns a missing piece into a failure.
Playwright never downloads a browser of its own here: it launches the system
Chromium through its executable path. Screenshots of every step go to
``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Chromium's flags for a closed network, as root, without a screen.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip


def missing_browser_piece() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (make setup installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not AXE.exists():
        return "axe-core is not installed (cd tests/browser && npm ci)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium, or a skip (a failure in CI) when a piece is missing."""
    missing = missing_browser_piece()
    if missing:
        if os.environ.get("CROSSWALK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
