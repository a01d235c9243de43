"""The sealer: chains committed events, grows the Merkle tree, signs tree heads.

Design choice (recorded here because everything else follows from it): writers
only INSERT their event inside their own transaction; the serial work — giving
each event its place ``seq``, its hash-chain link and Merkle leaf — is done by
this sealer in batches. A sealing pass locks the single ``audit_head`` row (a
row lock on PostgreSQL, the write lock on SQLite), reads the queued events
(``audit_pending``), appends them to ``audit_chain`` in queue order, advances
the head's compact range, and signs a tree head every ``audit_head_every_events``
events, once ``audit_head_every_seconds`` have passed with new events, or on
demand — all in one transaction, so several processes' sealers can run at once
and still make one chain. The alternative, chaining inside each writer's
transaction, holds the chain lock through that writer's commit; on the 2-core
test machine a PostgreSQL commit costs ~5 ms (fsync), which would cap the whole
log near 200 events/s (``benchmarks/bench_audit.py`` measures both).

The price is a short window (``audit_seal_interval_seconds``, default 0.25 s)
in which a committed event is queued but not yet chained; the append-only
triggers guard it meanwhile, and the verifier reports queued events separately.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from api.db import session_scope
from api.errors import NotReady
from api.hub.audit.events import CANONICAL_FIELDS, canonical_bytes
from api.hub.audit.merkle import CompactRange, leaf_hash
from api.hub.audit.signing import TreeHeadSigner
from api.hub.audit.tables import AuditChain, AuditEvent, AuditHead, AuditPending, AuditTreeHead
from api.web.poller import Poller

__all__ = ["EVENT_COLUMNS", "GENESIS", "AuditSealer", "SealPolicy", "lock_head"]

log = logging.getLogger(__name__)

#: The ``prev_hash`` of the first event.
GENESIS = bytes(32)
#: ``audit_event`` columns in canonical order.
EVENT_COLUMNS = tuple(AuditEvent.__table__.c[name] for name in CANONICAL_FIELDS)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SealPolicy:
    """When to sign a tree head."""

    every_events: int = 1000
    every_seconds: float = 60.0
    batch: int = 5000
    #: Vacuum the queue after this many events have been sealed, or this long
    #: after the last vacuum (on the first pass that seals anything, too).
    vacuum_every: int = 20_000
    vacuum_seconds: float = 30.0


def lock_head(session: Session) -> AuditHead:
    """Take the sealing lock (a no-op UPDATE of the head row) and read the head."""
    session.exec(update(AuditHead).where(col(AuditHead.id) == 1).values(size=AuditHead.size))
    head = session.get(AuditHead, 1, populate_existing=True)
    assert head is not None  # noqa: S101 - created by migration 0002
    return head


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


class AuditSealer:
    """Seals queued events for one engine; optionally in a background thread."""

    def __init__(
        self, engine: Engine, signer: TreeHeadSigner | None, policy: SealPolicy | None = None
    ) -> None:
        self.engine = engine
        self.signer = signer
        self.policy = policy or SealPolicy()
        self._poller: Poller | None = None
        self._sealed_since_vacuum = 0
        self._vacuumed_at = float("-inf")  # the first pass that seals anything vacuums

    def seal(self, *, sign_now: bool = False) -> int:
        """Chain every queued event (and sign heads as due); returns how many were sealed."""
        total = 0
        while True:
            with session_scope(self.engine) as session:
                count = self._seal_batch(session, sign_now=sign_now)
            total += count
            if count < self.policy.batch:
                break
        self._sealed_since_vacuum += total
        if self._sealed_since_vacuum and (
            self._sealed_since_vacuum >= self.policy.vacuum_every
            or time.monotonic() - self._vacuumed_at >= self.policy.vacuum_seconds
        ):
            self._vacuum_queue()
        return total

    def _vacuum_queue(self) -> None:
        """Reclaim the queue's deleted rows (PostgreSQL), whether or not autovacuum runs.

        Every sealed event leaves a dead row in ``audit_pending``; without a
        vacuum each pass walks past all of them (seen on a server with
        autovacuum off). The queue is small, so this takes milliseconds.
        """
        self._sealed_since_vacuum, self._vacuumed_at = 0, time.monotonic()
        if self.engine.dialect.name != "postgresql":
            return
        try:
            autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as connection:
                connection.exec_driver_sql("VACUUM audit_pending")
        except Exception:  # sealing goes on; a later pass tries again
            log.exception("could not vacuum the audit queue")

    def _seal_batch(self, session: Session, *, sign_now: bool) -> int:
        head = lock_head(session)
        connection = session.connection()
        # The batch's ids first, from the small queue alone, then their events by
        # primary key: one plan whatever the statistics say. (A plain join was
        # planned as a scan of the whole log when statistics were stale: 215 ms
        # a pass at 200k events, every pass.)
        batch = (
            select(col(AuditPending.event_id))
            .order_by(col(AuditPending.event_id))
            .limit(self.policy.batch)
            .subquery()
        )
        rows = connection.execute(
            select(*EVENT_COLUMNS)
            .join(batch, batch.c.event_id == col(AuditEvent.id))
            .order_by(batch.c.event_id)
        ).all()
        tree = CompactRange.from_bytes(head.size, head.frontier)
        prev, chain = head.last_hash, []
        for row in rows:
            entry = leaf_hash(prev + canonical_bytes(row))
            chain.append(
                {"seq": tree.size + 1, "event_id": row[0], "prev_hash": prev, "entry_hash": entry}
            )
            tree.append(entry)
            prev = entry
            if self.signer and tree.size - head.signed_size >= self.policy.every_events:
                self._sign(session, head, tree)
        if chain:
            connection.execute(insert(AuditChain), chain)
            ids = [c["event_id"] for c in chain]
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                connection.execute(
                    delete(AuditPending).where(col(AuditPending.event_id).in_(chunk))
                )
        head.size, head.last_hash, head.frontier = tree.size, prev, tree.to_bytes()
        if self.signer and self._due(head, sign_now):
            self._sign(session, head, tree)
        session.add(head)
        return len(rows)

    def _due(self, head: AuditHead, sign_now: bool) -> bool:
        if sign_now:
            return True
        if head.size == head.signed_size:
            return False
        if head.signed_at is None:
            return True
        elapsed = datetime.now(UTC) - head.signed_at.replace(tzinfo=head.signed_at.tzinfo or UTC)
        return elapsed.total_seconds() >= self.policy.every_seconds

    def _sign(self, session: Session, head: AuditHead, tree: CompactRange) -> None:
        assert self.signer is not None  # noqa: S101
        now = datetime.now(UTC)
        stamp, root = _micros(now), tree.root()
        session.add(
            AuditTreeHead(
                tree_size=tree.size,
                root_hash=root,
                timestamp_us=stamp,
                key_id=self.signer.key_id,
                signature=self.signer.sign(tree.size, stamp, root),
            )
        )
        head.signed_size, head.signed_at = tree.size, now

    def sign_head(self) -> AuditTreeHead:
        """Seal what is queued and sign a fresh head now (on demand).

        Raises:
            NotReady: no signing key is configured.
        """
        if self.signer is None:
            raise NotReady("no audit signing key is configured (CROSSWALK_AUDIT_SIGNING_KEY)")
        self.seal(sign_now=True)
        with Session(self.engine, expire_on_commit=False) as session:
            latest = session.exec(
                sqlmodel_select(AuditTreeHead).order_by(col(AuditTreeHead.id).desc()).limit(1)
            ).first()
        assert latest is not None  # noqa: S101 - just signed
        return latest

    # --- background thread -----------------------------------------------------------
    def start(self, interval: float, heartbeat: Callable[[], None] | None = None) -> None:
        """Seal every ``interval`` seconds in a daemon thread (0: do nothing).

        A failed pass (a transient database error) is logged; the next runs on time.
        ``heartbeat``, if given, is called after every pass, failed or not, so a
        watchdog can tell a sealer that hangs from one that is merely idle.
        """
        if interval <= 0 or self._poller is not None:
            return
        task: Callable[[], object] = self.seal
        if heartbeat is not None:
            beat = heartbeat

            def task() -> None:
                try:
                    self.seal()
                finally:
                    beat()

        self._poller = Poller("audit-sealer", interval, task)
        self._poller.start()

    def stop(self) -> None:
        """Stop the thread (after a last pass)."""
        if self._poller is not None:
            self._poller.stop(timeout=10)
            self._poller = None
