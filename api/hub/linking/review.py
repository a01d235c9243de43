"""Review queue, reviewer constraints and subject events.

Possible matches (``possible_threshold <= p < match_threshold`` across two
subjects) become :class:`~api.hub.linking.tables.ReviewItem` rows. A linkage reviewer's
decision becomes a must-link (``same``) or cannot-link (``different``)
:class:`~api.hub.linking.tables.LinkConstraint`, which every later incremental batch and
every re-link run honours; it is also applied at once by re-clustering the
subjects the two records belong to (:func:`linkage.match.recluster.recluster`). Every merge or
split stored here is also an audit event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import insert, or_, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from api.db import utcnow
from api.hub.audit import RequestContext
from api.hub.audit.log import record_subject_changes
from api.hub.identity.service import Principal
from api.hub.linking.tables import LinkConstraint, ReviewItem, SubjectEventRow
from linkage.match.subjects import SubjectEvent
from linkage.records import RecordKey

__all__ = [
    "constraints",
    "obsolete_review",
    "record_events",
    "record_events_and_review",
]

KeyPair = tuple[RecordKey, RecordKey]


def constraints(session: Session) -> tuple[list[KeyPair], list[KeyPair]]:
    """All reviewer constraints as (must-link pairs, cannot-link pairs)."""
    must: list[KeyPair] = []
    cannot: list[KeyPair] = []
    for c in session.exec(select(LinkConstraint)):
        pair = ((c.agency_l, c.record_id_l), (c.agency_r, c.record_id_r))
        (must if c.kind == "must_link" else cannot).append(pair)
    return must, cannot


def record_events(
    session: Session,
    events: Sequence[SubjectEvent],
    run_id: int | None,
    *,
    actor: Principal | None = None,
    context: RequestContext | None = None,
) -> None:
    """Store merge/split events, and their audit events in the same transaction."""
    record_subject_changes(session, events, actor=actor, context=context, run_id=run_id)
    rows = [
        {
            "kind": e.kind,
            "subject_ids": orjson.dumps(list(e.subject_ids)).decode(),
            "previous_ids": orjson.dumps(list(e.previous_ids)).decode(),
            "run_id": run_id,
            "created_at": utcnow(),
        }
        for e in events
    ]
    if rows:
        session.connection().execute(insert(SubjectEventRow), rows)


def queue_review(session: Session, pairs: Sequence[tuple[RecordKey, RecordKey, float]]) -> int:
    """Add possible matches not already queued (in any status); returns how many were added.

    One ``INSERT … ON CONFLICT DO NOTHING`` on the pair's unique key: the
    database skips pairs it already holds, so no look-up precedes the write.
    """
    fresh: dict[KeyPair, float] = {}
    for a, b, p in pairs:
        low, high = (a, b) if a <= b else (b, a)
        fresh[(low, high)] = max(p, fresh.get((low, high), 0.0))
    if not fresh:
        return 0
    now = utcnow()
    connection = session.connection()
    if connection.dialect.name == "postgresql":  # five arrays: a short statement to send and parse
        pairs_l, pairs_r = [a for a, _ in fresh], [b for _, b in fresh]
        arrays = {
            "al": [a for a, _ in pairs_l],
            "rl": [r for _, r in pairs_l],
            "ar": [a for a, _ in pairs_r],
            "rr": [r for _, r in pairs_r],
            "p": list(fresh.values()),
        }
        return len(connection.execute(_QUEUE_PG, {"now": now, **arrays}).all())
    rows = [
        {
            "agency_l": a[0],
            "record_id_l": a[1],
            "agency_r": b[0],
            "record_id_r": b[1],
            "match_probability": p,
            "status": "open",
            "created_at": now,
        }
        for (a, b), p in fresh.items()
    ]
    statement = (
        sqlite_insert(_REVIEW)
        .on_conflict_do_nothing(index_elements=_PAIR_COLUMNS)
        .returning(_REVIEW.c.id)
    )
    return len(connection.execute(statement, rows).all())


_REVIEW = ReviewItem.__table__  # type: ignore[attr-defined]
_PAIR_COLUMNS = ["agency_l", "record_id_l", "agency_r", "record_id_r"]
# PostgreSQL: the rows as five arrays, unnested server-side. A multi-row VALUES
# list of thousands of placeholders costs more to build and parse than to run.
_QUEUE_PG = text(
    "INSERT INTO review_item"
    " (agency_l, record_id_l, agency_r, record_id_r, match_probability, status, created_at)"
    " SELECT al, rl, ar, rr, p, 'open', :now FROM unnest("
    "CAST(:al AS text[]), CAST(:rl AS text[]), CAST(:ar AS text[]), CAST(:rr AS text[]),"
    " CAST(:p AS float8[])) AS t(al, rl, ar, rr, p)"
    " ON CONFLICT (agency_l, record_id_l, agency_r, record_id_r) DO NOTHING RETURNING id"
)


def record_events_and_review(
    session: Session,
    outcome: Any,
    *,
    actor: Principal | None = None,
    context: RequestContext | None = None,
) -> int:
    """Store an incremental batch's events and review pairs; returns pairs queued."""
    record_events(session, outcome.events, None, actor=actor, context=context)
    return queue_review(session, outcome.review_pairs)


def obsolete_review(session: Session, key: RecordKey) -> None:
    """Close open review items that involve a retracted record."""
    agency, record_id = key
    items = session.exec(
        select(ReviewItem).where(
            col(ReviewItem.status) == "open",
            or_(
                (col(ReviewItem.agency_l) == agency) & (col(ReviewItem.record_id_l) == record_id),
                (col(ReviewItem.agency_r) == agency) & (col(ReviewItem.record_id_r) == record_id),
            ),
        )
    ).all()
    for item in items:
        item.status = "obsolete"
        session.add(item)
