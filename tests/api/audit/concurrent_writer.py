"""A separate process that writes audit events and seals, on a shared PostgreSQL database."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

from api.db import make_engine, session_scope
from api.hub.audit import EventKind, record
from api.hub.audit.sealer import AuditSealer, SealPolicy
from api.hub.audit.signing import TreeHeadSigner, parse_private_key
from api.hub.settings import DEV_SIGNING_SEED


def write_and_seal(database_url: str, worker: int, events: int, barrier: Barrier) -> int:
    """Write ``events`` events one transaction each, sealing after every tenth; returns sealed."""
    engine = make_engine(database_url)
    sealer = AuditSealer(
        engine, TreeHeadSigner(parse_private_key(DEV_SIGNING_SEED)), SealPolicy(every_events=25)
    )
    sealed = 0
    try:
        barrier.wait(timeout=60)
        for i in range(events):
            with session_scope(engine) as session:
                record(
                    session,
                    EventKind.SUBJECT_RESOLVE,
                    request_id=f"w{worker}-{i}",
                    details={"worker": worker, "n": i},
                )
            if i % 10 == 9:
                sealed += sealer.seal()
        sealed += sealer.seal()
    finally:
        engine.dispose()
    return sealed
