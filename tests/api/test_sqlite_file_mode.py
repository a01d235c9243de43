"""The SQLite store, its write-ahead log and shared-memory file are readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from api.db import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> object:
    """A umask that would leave new files world-readable (and writable)."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_a_new_sqlite_store_is_created_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as connection:  # WAL and shm exist while a connection is open
            connection.execute(text("SELECT x FROM t")).all()
            files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
            modes = {p.name: _mode(p) for p in files}
    finally:
        engine.dispose()

    assert modes == {"hub.db": 0o600, "hub.db-wal": 0o600, "hub.db-shm": 0o600}


def test_an_existing_world_readable_store_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    db.touch()
    db.chmod(0o644)

    make_engine(f"sqlite:///{db}").dispose()

    assert _mode(db) == 0o600
