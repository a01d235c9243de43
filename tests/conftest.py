"""Shared test fixtures: the fixtures/ folder, keys, and the PostgreSQL switch.

PostgreSQL tests (marker ``postgres``) run whenever a server answers at
``CROSSWALK_TEST_POSTGRES_URL`` (default ``127.0.0.1:5432``); elsewhere they are
skipped with a notice in the summary. CI sets ``CROSSWALK_REQUIRE_POSTGRES=1``,
which turns an unreachable server into a failure instead of a skip.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

from api.demo.builder import DEMO_DATA
from linkage.encode.keys import LinkageSecret

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_PG_URL = os.environ.get("CROSSWALK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> bool:
    parsed = urlparse(_PG_URL)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), 1.0):
            return True
    except OSError:
        return False


def pytest_report_header() -> list[str]:
    """Say in the header which optional test groups will run."""
    from tests.browser.conftest import CHROMIUM, missing_browser_piece

    state = (
        "reachable" if _postgres_reachable() else "NOT reachable: postgres tests will be skipped"
    )
    missing = missing_browser_piece()
    browser = f"NOT run: {missing}" if missing else f"chromium {CHROMIUM}"
    return [f"PostgreSQL test server ({_PG_URL}): {state}", f"browser tests: {browser}"]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the test PostgreSQL server; skips (or fails in CI) when there is none."""
    if not _postgres_reachable():
        if os.environ.get("CROSSWALK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {_PG_URL}")
        pytest.skip(f"no PostgreSQL server at {_PG_URL}")
    return _PG_URL


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The repository's fixtures/ folder (data only)."""
    return FIXTURES


@pytest.fixture(scope="session")
def demo_data_dir() -> Path:
    """The demo hub's own data (package data of ``api.demo``): agencies' CSVs, truth, policy."""
    return DEMO_DATA


@pytest.fixture(scope="session")
def secret() -> LinkageSecret:
    """A fixed linkage secret for deterministic tests."""
    return LinkageSecret(bytes(range(32)))


@pytest.fixture(scope="session")
def other_secret() -> LinkageSecret:
    """A second secret, to show encodings differ across keys."""
    return LinkageSecret(bytes(range(1, 33)))
