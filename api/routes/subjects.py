"""``/v1/subjects``: resolve a person, list a subject's records, read its context.

Resolve answers with subject ids and scores only. The subject view is filtered
category by category; until the access policy exists it discloses **nothing**:
every category of every agency holding the subject is withheld with reason
``no_policy``. All eleven categories are listed for each agency, whether or not
it holds data in them, so the listing reveals nothing about what exists.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, require_roles
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


@router.post("/resolve")
async def resolve(request: Request, user: Responder) -> dict[str, Any]:
    """Candidates for one encoded record (a line of ``crosswalk encode``), best first."""
    body = await request.body()
    if len(body) > _MAX_QUERY:
        raise InvalidRequest("a resolve query is one encoded record")
    service: LinkService = request.app.state.linking
    candidates = await run_in_threadpool(service.resolve, user, body)
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
def subject_records(subject_id: str, _user: Reviewer, session: SessionDep) -> dict[str, Any]:
    """The subject's member records: agency, record id, match probability — no context."""
    rows = session.exec(
        select(StoredRecord.agency, StoredRecord.record_id, StoredRecord.match_probability)
        .where(StoredRecord.subject_id == subject_id, col(StoredRecord.retracted).is_(False))
        .order_by(col(StoredRecord.agency), col(StoredRecord.record_id))
    ).all()
    if not rows:
        raise NotFound("no such subject")
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
    _user: Responder,
    session: SessionDep,
    purpose: Annotated[str, Query(description=f"one of: {', '.join(PURPOSES)}")],
) -> dict[str, Any]:
    """The subject's context by agency and category, as policy allows (nothing, yet)."""
    if purpose not in PURPOSES:
        raise InvalidRequest(f"unknown purpose; purposes: {', '.join(PURPOSES)}")
    service: LinkService = request.app.state.linking
    agencies = service.subject_exists(session, subject_id)
    return {
        "subject_id": subject_id,
        "purpose": purpose,
        "agencies": [
            {
                "agency": agency,
                "categories": {},
                "withheld": [{"category": c, "reason": "no_policy"} for c in CATEGORIES],
            }
            for agency in agencies
        ],
    }
