"""The auditor's acts on the log, each itself recorded and committed before it answers.

Every read of the log through ``/v1/audit`` is an ``audit.access`` event (the
action, its criteria and how many results), committed before anything is
returned, so an unrecorded look at the log cannot happen. :func:`record_access`
is that event; the functions below are the reads (and the one write, a
break-glass review) that the routes call whole.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from api.db import utcnow
from api.errors import Conflict, NotFound
from api.hub.audit.events import Actor, EventKind
from api.hub.audit.log import RequestContext, record
from api.hub.audit.search import EventFilter, break_glass_queue, disclosures, search_events
from api.hub.audit.tables import AuditEvent, AuditReview
from api.schemas.audit import (
    AuditEventPagePublic,
    BreakGlassQueuePublic,
    BreakGlassReviewedPublic,
    DisclosuresPublic,
)

__all__ = [
    "accounting",
    "break_glass_page",
    "record_access",
    "review_break_glass",
    "search_page",
]


def record_access(
    session: Session, auditor: Actor, context: RequestContext, action: str, **details: Any
) -> None:
    """Record the auditor's ``action`` on the log and commit it (before anything is returned)."""
    record(
        session,
        EventKind.AUDIT_ACCESS,
        actor=auditor,
        context=context,
        subject_id=details.pop("subject_id", None),
        details={"action": action, **details},
    )
    session.commit()


def search_page(
    session: Session,
    auditor: Actor,
    context: RequestContext,
    criteria: EventFilter,
    limit: int,
    before_id: int | None = None,
) -> AuditEventPagePublic:
    """One page of matching events, newest first, and where the next page starts."""
    events = search_events(session, criteria, limit, before_id)
    record_access(session, auditor, context, "search", results=len(events), **criteria.as_details())
    more = len(events) == limit
    return AuditEventPagePublic(events=events, next_before_id=events[-1].id if more else None)


def break_glass_page(
    session: Session,
    auditor: Actor,
    context: RequestContext,
    reviewed: bool,
    limit: int,
    offset: int,
) -> BreakGlassQueuePublic:
    """One page of break-glass events awaiting review (``reviewed``: those already reviewed)."""
    items = break_glass_queue(session, reviewed, limit, offset)
    record_access(
        session, auditor, context, "break_glass_queue", results=len(items), reviewed=reviewed
    )
    return BreakGlassQueuePublic(events=items, reviewed=reviewed, offset=offset)


def review_break_glass(
    session: Session, auditor: Actor, context: RequestContext, event_id: int, note: str
) -> BreakGlassReviewedPublic:
    """Mark a break-glass event reviewed, with a note; the review is itself an event.

    Raises:
        NotFound: no break-glass event has that id.
        Conflict: the event is already reviewed.
    """
    event = session.get(AuditEvent, event_id)
    if event is None or not event.break_glass:
        raise NotFound("no such break-glass event")
    if session.exec(select(AuditReview).where(AuditReview.event_id == event_id)).first():
        raise Conflict("that break-glass event is already reviewed")
    note = " ".join(note.split())  # as the event stores it
    record(
        session,
        EventKind.AUDIT_BREAK_GLASS_REVIEW,
        actor=auditor,
        context=context,
        subject_id=event.subject_id,
        reason=note,
        details={"event_id": event_id},
    )
    session.add(
        AuditReview(
            event_id=event_id, reviewed_by=auditor.username, reviewed_at=utcnow(), note=note
        )
    )
    session.commit()
    return BreakGlassReviewedPublic(event_id=event_id, reviewed_by=auditor.username, note=note)


def accounting(
    session: Session, auditor: Actor, context: RequestContext, subject_id: str, lineage: set[str]
) -> DisclosuresPublic:
    """The person's accounting of disclosures (see :func:`~api.hub.audit.search.disclosures`).

    ``lineage`` is every subject id the person's records carried, which linking
    knows (:func:`api.hub.linking.lineage.subject_lineage`).
    """
    report = disclosures(session, subject_id, lineage)
    record_access(
        session,
        auditor,
        context,
        "disclosures",
        subject_id=subject_id,
        results=len(report.disclosures),
    )
    return report
