"""A subject's member records, for a linkage reviewer: agency, record id, probability.

The list never carries context, but it does tell which agencies hold records of
the person, so reading it is the ``subject.records`` audit event, committed
before the list is returned (no log, no answer).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.errors import NotFound
from api.hub.audit import EventKind, RequestContext, record
from api.hub.identity.service import Principal
from api.hub.records.tables import StoredRecord
from api.schemas.subjects import SubjectRecordPublic, SubjectRecordsPublic

__all__ = ["subject_members"]


def subject_members(
    session: Session, user: Principal, subject_id: str, context: RequestContext
) -> SubjectRecordsPublic:
    """The subject's live records, by agency and record id; their event is committed.

    Raises:
        NotFound: the subject has no live record.
        AuditUnavailable: the event could not be written (nothing is returned).
    """
    rows = session.exec(
        select(StoredRecord.agency, StoredRecord.record_id, StoredRecord.match_probability)
        .where(StoredRecord.subject_id == subject_id, col(StoredRecord.retracted).is_(False))
        .order_by(col(StoredRecord.agency), col(StoredRecord.record_id))
    ).all()
    if not rows:
        raise NotFound("no such subject")
    record(
        session,
        EventKind.SUBJECT_RECORDS,
        actor=user,
        context=context,
        subject_id=subject_id,
        decision="permit",
        details={"records": len(rows), "agencies": sorted({a for a, _, _ in rows})},
    )
    session.commit()
    return SubjectRecordsPublic(
        subject_id=subject_id,
        records=[
            SubjectRecordPublic(agency=a, record_id=r, match_probability=round(p, 6))
            for a, r, p in rows
        ],
    )
