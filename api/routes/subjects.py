"""``/v1/subjects``: resolve a person, list a subject's records, read its context.

Resolve answers with subject ids and scores only. The subject view is filtered
category by category; until the access policy exists it discloses **nothing**:
every category of every agency holding the subject is withheld with reason
``no_policy``. All eleven categories are listed for each agency, whether or not
it holds data in them, so the listing reveals nothing about what exists.

Every answer is an audit event committed before the response leaves: resolve
(``subject.resolve``: how many candidates, which subject ids), the member list
(``subject.records``) and the view (``subject.view``, one event per owning
agency with the categories returned and withheld, the decision and the rule).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.audit import EventKind, RequestContext, record
from api.db import session_scope
from api.deps import AuditContextDep, SessionDep, get_engine, require_roles
from api.errors import InvalidRequest, NotFound
from api.roles import RESPONDER_ROLES, Role
from api.services.identity import Principal
from api.services.linking import LinkService
from api.tables import StoredRecord
from policy.vocabulary import CATEGORIES, PURPOSES

__all__ = ["router"]

Responder = Annotated[Principal, Depends(require_roles(*RESPONDER_ROLES))]
Reviewer = Annotated[Principal, Depends(require_roles(Role.LINKAGE_REVIEWER))]
router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

_MAX_QUERY = 64 * 1024


def _record_resolve(
    engine: Engine, user: Principal, context: RequestContext, subject_ids: list[str]
) -> None:
    # Resolve reads only the in-memory index, so its event is the transaction.
    with session_scope(engine) as session:
        record(
            session,
            EventKind.SUBJECT_RESOLVE,
            actor=user,
            context=context,
            decision="permit",
            details={"candidates": len(subject_ids), "subject_ids": subject_ids},
        )


@router.post("/resolve")
async def resolve(
    request: Request,
    user: Responder,
    context: AuditContextDep,
    engine: Annotated[Engine, Depends(get_engine)],
) -> dict[str, Any]:
    """Candidates for one encoded record (a line of ``crosswalk encode``), best first."""
    body = await request.body()
    if len(body) > _MAX_QUERY:
        raise InvalidRequest("a resolve query is one encoded record")
    service: LinkService = request.app.state.linking
    candidates = await run_in_threadpool(service.resolve, user, body)
    subject_ids = [c.subject_id for c in candidates]
    await run_in_threadpool(_record_resolve, engine, user, context, subject_ids)
    return {
        "candidates": [
            {
                "subject_id": c.subject_id,
                "match_probability": round(c.match_probability, 6),
                "zone": c.zone,
            }
            for c in candidates
        ]
    }


@router.get("/{subject_id}/records")
def subject_records(
    subject_id: str, user: Reviewer, session: SessionDep, context: AuditContextDep
) -> dict[str, Any]:
    """The subject's member records: agency, record id, match probability — no context."""
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
    return {
        "subject_id": subject_id,
        "records": [
            {"agency": a, "record_id": r, "match_probability": round(p, 6)} for a, r, p in rows
        ],
    }


@router.get("/{subject_id}")
def subject_view(
    subject_id: str,
    request: Request,
    user: Responder,
    session: SessionDep,
    context: AuditContextDep,
    purpose: Annotated[str, Query(description=f"one of: {', '.join(PURPOSES)}")],
) -> dict[str, Any]:
    """The subject's context by agency and category, as policy allows (nothing, yet)."""
    if purpose not in PURPOSES:
        raise InvalidRequest(f"unknown purpose; purposes: {', '.join(PURPOSES)}")
    service: LinkService = request.app.state.linking
    agencies = service.subject_exists(session, subject_id)
    views = [
        {
            "agency": agency,
            "categories": {},
            "withheld": [{"category": c, "reason": "no_policy"} for c in CATEGORIES],
        }
        for agency in agencies
    ]
    _record_view(session, user, context, subject_id, purpose, views)
    session.commit()  # no log, no disclosure: the events commit before the response goes
    return {"subject_id": subject_id, "purpose": purpose, "agencies": views}


def _record_view(
    session: Session,
    user: Principal,
    context: RequestContext,
    subject_id: str,
    purpose: str,
    views: list[dict[str, Any]],
) -> None:
    """One ``subject.view`` event per owning agency: what was returned and withheld."""
    for view in views:
        returned = list(view["categories"])
        withheld = {w["category"]: w["reason"] for w in view["withheld"]}
        decision = "permit" if not withheld else "partial" if returned else "deny"
        record(
            session,
            EventKind.SUBJECT_VIEW,
            actor=user,
            context=context,
            subject_id=subject_id,
            agency=view["agency"],
            categories=returned,
            withheld=withheld,
            decision=decision,
            rule="no_policy",
            purpose=purpose,
            details={"withheld": withheld},
        )
