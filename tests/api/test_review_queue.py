"""The review queue's write: each possible pair once, whatever its status, on both backends."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlmodel import Session

from api.db import session_scope
from api.hub.linking.review import queue_review
from api.hub.linking.tables import ReviewItem
from tests.api.hub import Hub

A, B, C = ("police_cad", "p-1"), ("ems", "e-1"), ("ems", "e-2")


def _rows(session: Session) -> list[tuple[str, str, str, str, float, str]]:
    query = select(
        ReviewItem.agency_l,  # type: ignore[arg-type]
        ReviewItem.record_id_l,  # type: ignore[arg-type]
        ReviewItem.agency_r,  # type: ignore[arg-type]
        ReviewItem.record_id_r,  # type: ignore[arg-type]
        ReviewItem.match_probability,  # type: ignore[arg-type]
        ReviewItem.status,  # type: ignore[arg-type]
    ).order_by(ReviewItem.record_id_r)  # type: ignore[arg-type]
    return [tuple(row) for row in session.connection().execute(query)]  # type: ignore[misc]


def test_a_pair_is_queued_once_in_either_order_with_its_best_score(hub: Hub) -> None:
    with session_scope(hub.engine) as session:
        added = queue_review(session, [(A, B, 0.05), (B, A, 0.08), (A, C, 0.04)])

    with session_scope(hub.engine) as session:
        rows = _rows(session)

    assert added == 2
    assert rows == [
        ("ems", "e-1", "police_cad", "p-1", 0.08, "open"),
        ("ems", "e-2", "police_cad", "p-1", 0.04, "open"),
    ]


def test_pairs_already_queued_or_decided_are_not_queued_again(hub: Hub) -> None:
    with session_scope(hub.engine) as session:
        queue_review(session, [(A, B, 0.05)])
        session.connection().execute(update(ReviewItem).values(status="decided"))

    with session_scope(hub.engine) as session:
        added = queue_review(session, [(B, A, 0.09), (A, C, 0.04)])
    with session_scope(hub.engine) as session:
        count = session.connection().execute(select(func.count()).select_from(ReviewItem))
        total = count.scalar_one()
        statuses = [row[5] for row in _rows(session)]

    assert added == 1
    assert total == 2
    assert statuses == ["decided", "open"]


def test_nothing_to_queue_writes_nothing(hub: Hub) -> None:
    with session_scope(hub.engine) as session:
        assert queue_review(session, []) == 0
        assert _rows(session) == []
