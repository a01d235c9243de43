"""``crosswalk serve``'s sealer process: it seals what workers queue, and comes back if killed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from multiprocessing.sharedctypes import Synchronized

import pytest
from sqlalchemy import Engine, text

from api.db import make_engine
from api.hub.audit import EventKind, record_alone
from api.hub.audit.sealer import AuditSealer, SealPolicy
from api.hub.audit.sealer_process import SEAL_INTERVAL_ENV, sealer_process
from api.hub.audit.verify import verify_log
from api.hub.migrations import upgrade_database


@pytest.fixture
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The store, configured through the environment as ``crosswalk serve`` is."""
    monkeypatch.setenv("CROSSWALK_DATABASE_URL", database_url)
    monkeypatch.setenv("CROSSWALK_ENVIRONMENT", "development")
    monkeypatch.delenv(SEAL_INTERVAL_ENV, raising=False)
    engine = make_engine(database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def _pending(engine: Engine) -> int:
    with engine.connect() as connection:
        count: int = connection.execute(text("SELECT count(*) FROM audit_pending")).scalar_one()
        return count


def _sealed_within(engine: Engine, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _pending(engine) == 0:
            return True
        time.sleep(0.05)
    return False


def _event(engine: Engine, n: int) -> None:
    record_alone(engine, EventKind.SUBJECT_RESOLVE, decision="permit", details={"candidates": n})


def test_the_sealer_process_seals_queued_events_and_workers_are_told_not_to(engine: Engine) -> None:
    _event(engine, 1)
    assert _pending(engine) == 1

    with sealer_process(0.05):
        workers_interval = os.environ[SEAL_INTERVAL_ENV]
        sealed = _sealed_within(engine, 30)
        _event(engine, 2)
        sealed_again = _sealed_within(engine, 10)

    assert workers_interval == "0"
    assert SEAL_INTERVAL_ENV not in os.environ
    assert sealed
    assert sealed_again
    with engine.connect() as connection:
        report = verify_log(connection, None)
    assert report.intact
    assert report.events == 2


def test_a_killed_sealer_process_is_restarted(engine: Engine) -> None:
    with sealer_process(0.05):
        assert _sealed_within(engine, 30)
        (child,) = [p for p in multiprocessing.active_children() if "sealer" in p.name]
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(timeout=5)
        _event(engine, 3)
        sealed = _sealed_within(engine, 30)

    assert sealed


def test_no_process_when_sealing_is_off(engine: Engine) -> None:
    before = len(multiprocessing.active_children())
    with sealer_process(0):
        assert len(multiprocessing.active_children()) == before
        assert SEAL_INTERVAL_ENV not in os.environ


@pytest.fixture
def pg_engine(postgres_database_url: str) -> Iterator[Engine]:
    """A fresh PostgreSQL store (the queue is vacuumed on PostgreSQL only)."""
    engine = make_engine(postgres_database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_the_sealer_vacuums_its_queue_on_postgresql(pg_engine: Engine) -> None:
    engine = pg_engine
    sealer = AuditSealer(engine, None, SealPolicy(vacuum_every=3))
    for n in range(3):
        _event(engine, n)

    sealed = sealer.seal()

    assert sealed == 3
    query = text(
        "SELECT vacuum_count FROM pg_stat_user_tables"
        " WHERE relname = 'audit_pending' AND schemaname = current_schema()"
    )
    deadline, count = time.monotonic() + 5, 0
    while time.monotonic() < deadline and count == 0:
        with engine.connect() as connection:
            count = connection.execute(query).scalar_one_or_none() or 0
        time.sleep(0.05)
    assert count >= 1
    _event(engine, 4)
    assert sealer.seal() == 1  # and sealing goes on


def _hang(_interval: float, heartbeat: Synchronized[float]) -> None:
    """A sealer stub that beats once, then hangs (as if stuck in a pass), deaf to SIGTERM."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    heartbeat.value = time.monotonic()
    while True:
        time.sleep(1)


def _sealer_pids() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if "sealer" in p.name and p.pid}


def test_a_hung_sealer_process_is_killed_and_restarted() -> None:
    with sealer_process(0.05, stale_after=1.0, target=_hang):
        (first,) = _sealer_pids()
        deadline, replaced = time.monotonic() + 20, set[int]()
        while time.monotonic() < deadline and not replaced:
            time.sleep(0.1)
            replaced = _sealer_pids() - {first}
        first_gone = not os.path.exists(f"/proc/{first}") or first not in _sealer_pids()

    assert replaced
    assert first_gone
    assert _sealer_pids() == set()  # and the hung one is killed on the way out, too
