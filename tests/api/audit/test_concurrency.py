"""Many writers and several sealers at once still make one valid chain (PostgreSQL).

Threads and separate processes write events in their own transactions while
their sealers run concurrently; at the end every event is chained exactly once,
in one gap-free chain whose signed heads all verify.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from api.hub.audit.service import AuditService
from tests.api.audit.concurrent_writer import write_and_seal
from tests.api.audit.helpers import quiet_hub, seal
from tests.api.hub import Hub

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_hub(postgres_database_url: str) -> Iterator[Hub]:
    """A hub on PostgreSQL that seals only when told."""
    yield from quiet_hub(postgres_database_url)


@pytest.fixture
def sealing_hub(postgres_database_url: str) -> Iterator[Hub]:
    """A hub on PostgreSQL whose background sealer runs every 10 ms."""
    yield from quiet_hub(postgres_database_url, audit_seal_interval_seconds=0.01)


def _assert_one_chain(hub: Hub, expected_events: int) -> None:
    seal(hub)
    service: AuditService = hub.client.app.state.services.audit  # type: ignore[attr-defined]
    report = service.verify()
    assert report.intact, report.problem
    with hub.engine.connect() as db:
        events = db.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        chained = db.execute(text("SELECT count(DISTINCT event_id) FROM audit_chain")).scalar_one()
        seqs = db.execute(text("SELECT min(seq), max(seq), count(*) FROM audit_chain")).one()
    assert events >= expected_events
    assert chained == events == report.events
    assert tuple(seqs) == (1, events, events)


def test_parallel_requests_and_a_background_sealer_keep_one_chain(sealing_hub: Hub) -> None:
    hub = sealing_hub
    hub.user("ann", "auditor", "county")
    hub.user("ofc", "police_officer", "police")

    def hit(i: int) -> int:
        who = "ann" if i % 2 else "ofc"  # auditor reads and officer refusals, both logged
        return hub.client.get("/v1/audit/tree-heads", headers=hub.auth(who)).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(hit, range(200)))

    assert sorted(set(statuses)) == [200, 403]
    _assert_one_chain(hub, 200)


def test_writer_and_sealer_processes_keep_one_chain(
    pg_hub: Hub, postgres_database_url: str
) -> None:
    workers, per_worker = 4, 60
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(workers)
    with context.Pool(workers) as pool:
        pool.starmap(
            write_and_seal,
            [(postgres_database_url, w, per_worker, barrier) for w in range(workers)],
        )
    _assert_one_chain(pg_hub, workers * per_worker)


def test_concurrent_sealers_never_chain_an_event_twice(pg_hub: Hub) -> None:
    service: AuditService = pg_hub.client.app.state.services.audit  # type: ignore[attr-defined]
    stop = threading.Event()

    def sealing() -> None:
        while not stop.is_set():
            service.sealer.seal()

    sealers = [threading.Thread(target=sealing) for _ in range(3)]
    for thread in sealers:
        thread.start()
    try:
        for i in range(40):
            pg_hub.user(f"u{i}", "dispatcher", "county")
    finally:
        stop.set()
        for thread in sealers:
            thread.join()
    _assert_one_chain(pg_hub, 40 * 2)
