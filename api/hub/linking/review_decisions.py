"""A linkage reviewer settles a possible match.

``same`` stores a must-link, ``different`` a cannot-link, between the item's two
records; then the subjects of both records are re-clustered at once under all
constraints (:func:`linkage.match.recluster.recluster`), so the decision takes
effect immediately, and every later incremental batch and re-link honours it.
The decision and the merges/splits it causes are audit events in the same
transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from api.db import utcnow
from api.errors import Conflict, InvalidRequest, NotFound, NotReady
from api.hub.audit import EventKind, RequestContext, record
from api.hub.identity.service import Principal
from api.hub.linking import review
from api.hub.linking.tables import LinkConstraint, ReviewItem
from api.hub.records.store import move_subjects
from api.schemas.linking import (
    ReviewDecisionPublic,
    ReviewItemPublic,
    ReviewRecordPublic,
    SubjectChangePublic,
)
from linkage.match.recluster import recluster

if TYPE_CHECKING:
    from api.hub.linking.service import LinkService

__all__ = ["decide", "open_items"]

_KINDS = {"same": "must_link", "different": "cannot_link"}


def open_items(service: LinkService, limit: int, offset: int) -> list[ReviewItemPublic]:
    """Open review items, most probable first."""
    from api.db import session_scope

    with session_scope(service.engine) as session:
        items = session.exec(
            select(ReviewItem)
            .where(ReviewItem.status == "open")
            .order_by(col(ReviewItem.match_probability).desc(), col(ReviewItem.id))
            .offset(offset)
            .limit(limit)
        ).all()
        return [ReviewItemPublic(**_item_fields(item)) for item in items]


def _item_fields(item: ReviewItem) -> dict[str, Any]:
    """The fields of a review item's response view (shared by the queue and a decision)."""
    return {
        "id": item.id,
        "left": ReviewRecordPublic(agency=item.agency_l, record_id=item.record_id_l),
        "right": ReviewRecordPublic(agency=item.agency_r, record_id=item.record_id_r),
        "match_probability": round(item.match_probability, 6),
        "status": item.status,
        "decision": item.decision,
    }


def decide(
    service: LinkService,
    principal: Principal,
    item_id: int,
    decision: str,
    context: RequestContext | None = None,
) -> ReviewDecisionPublic:
    """Record the decision and re-cluster the two records' subjects."""
    if decision not in _KINDS:
        raise InvalidRequest("decision must be 'same' or 'different'")
    with service._lock:
        with service.write() as (session, state):
            item = session.get(ReviewItem, item_id)
            if item is None:
                raise NotFound("no such review item")
            if item.status != "open":
                raise Conflict(f"review item {item_id} is already {item.status}")
            if service.model is None or service.index is None:
                raise NotReady("no linkage model yet")
            left, right = (item.agency_l, item.record_id_l), (item.agency_r, item.record_id_r)
            session.add(
                LinkConstraint(
                    kind=_KINDS[decision],
                    agency_l=left[0],
                    record_id_l=left[1],
                    agency_r=right[0],
                    record_id_r=right[1],
                    created_by=principal.user_id,
                )
            )
            item.status, item.decision = "decided", decision
            item.decided_by, item.decided_at = principal.user_id, utcnow()
            session.add(item)
            session.flush()
            must, cannot = review.constraints(session)
            subjects = [
                s for s in (service.index.subject_of(left), service.index.subject_of(right)) if s
            ]
            changes, events = recluster(
                service.index, subjects, service.model, service.link_settings, must, cannot,
                id_key=service.subject_key,
            )  # fmt: skip
            move_subjects(session, {k: (s, None) for k, s in changes.items()}, state.seq)
            review.record_events(session, events, None, actor=principal, context=context)
            record(
                session,
                EventKind.REVIEW_DECISION,
                actor=principal,
                context=context,
                subject_id=subjects[0] if subjects else None,
                details={
                    "review_item": item_id,
                    "decision": decision,
                    "constraint": _KINDS[decision],
                    "subject_ids": subjects,
                    "subjects_changed": len(changes),
                },
            )
        service.index.set_subjects(changes)
    return ReviewDecisionPublic(
        **_item_fields(item),
        subjects_changed=len(changes),
        events=[
            SubjectChangePublic(
                kind=e.kind, subject_ids=list(e.subject_ids), previous_ids=list(e.previous_ids)
            )
            for e in events
        ],
    )
