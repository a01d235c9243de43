"""``/v1/subjects``: resolve a person, list a subject's records, read its context.

Resolve answers with subject ids and scores only. The subject view is filtered
category by category by the published policy and the consent registry
(:mod:`api.hub.views.service`): allowed categories returned, withheld ones
with a reason code, *conceal existence* ones absent. ``POST …/break-glass``
grants a responder short-lived emergency access where a rule allows it.

Every answer is an audit event committed before the response leaves: resolve
(``subject.resolve``: how many candidates, which subject ids), the member list
(``subject.records``) and the view (``subject.view``, one event per owning
agency with the categories returned and withheld, the decision, the rules and
the policy version; ``subject.break_glass`` for a grant, flagged for review).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.db import session_scope
from api.errors import InvalidRequest, NotFound
from api.hub.audit import EventKind, RequestContext, record
from api.hub.deps import AuditContextDep, SessionDep, require_roles
from api.hub.identity.roles import RESPONDER_ROLES, Role
from api.hub.identity.service import Principal
from api.hub.linking.loop_resolve import LoopResolver, record_resolve
from api.hub.linking.service import LinkService
from api.hub.tables import StoredRecord
from api.hub.views.service import SubjectViews
from linkage.match.resolve import Candidate
from policy.vocabulary import PURPOSES

__all__ = ["router"]

Responder = Annotated[Principal, Depends(require_roles(*RESPONDER_ROLES))]
Reviewer = Annotated[Principal, Depends(require_roles(Role.LINKAGE_REVIEWER))]
router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

_MAX_QUERY = 64 * 1024
T = TypeVar("T")


def _resolve_and_record(
    service: LinkService, user: Principal, body: bytes, context: RequestContext
) -> list[Candidate]:
    """Resolve, then write its event; the candidates leave only once the event is stored.

    Resolve reads only the in-memory index (after reading the store's version,
    and catching up if it moved), so its one write is the audit event: both
    statements run in autocommit on one connection checkout — two round trips
    instead of BEGIN, read, write, COMMIT. A failed event raises
    :class:`~api.errors.AuditUnavailable` and nothing is returned.
    """
    with Session(service.autocommit) as session:
        candidates = service.resolve(user, body, session)
        record_resolve(session, user, context, candidates)
    return candidates


@router.post("/resolve")
async def resolve(request: Request, user: Responder, context: AuditContextDep) -> dict[str, Any]:
    """Candidates for one encoded record (a line of ``crosswalk encode``), best first."""
    body = await request.body()
    if len(body) > _MAX_QUERY:
        raise InvalidRequest("a resolve query is one encoded record")
    resolver: LoopResolver | None = request.app.state.resolver
    if resolver is not None:  # PostgreSQL: on the event loop (see api.hub.linking.loop_resolve)
        candidates = await resolver.resolve_and_record(user, body, context)
    else:
        service: LinkService = request.app.state.linking
        candidates = await run_in_threadpool(_resolve_and_record, service, user, body, context)
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


def _committed(engine: Engine, act: Callable[..., T], *args: Any) -> T:
    """``act(session, *args)`` in one transaction, committed before this returns.

    Views and grants disclose, so their events commit before the response is
    sent: no log, no disclosure. One worker-thread hop does it all; a
    ``SessionDep`` (which commits only after the response has gone) would add
    two, its set-up and its teardown, and a sync route a third, for validating
    the response.
    """
    with session_scope(engine) as session:
        return act(session, *args)


@router.get("/{subject_id}")
async def subject_view(
    subject_id: str,
    request: Request,
    user: Responder,
    context: AuditContextDep,
    purpose: Annotated[str, Query(description=f"one of: {', '.join(PURPOSES)}")],
) -> dict[str, Any]:
    """The subject's context by agency and category, as policy and consent allow."""
    views: SubjectViews = request.app.state.views
    return await run_in_threadpool(
        _committed, views.db, views.view, user, subject_id, purpose, context
    )


class BreakGlassRequest(BaseModel):
    """Body of ``POST /v1/subjects/{id}/break-glass``."""

    purpose: str = Field(description="must be 'emergency'")
    reason: str = Field(min_length=1, max_length=500, description="why; no identifiers")


@router.post("/{subject_id}/break-glass", status_code=201)
async def break_glass(
    subject_id: str,
    body: BreakGlassRequest,
    request: Request,
    user: Responder,
    context: AuditContextDep,
) -> dict[str, Any]:
    """A short-lived emergency grant, where a rule allows break-glass; flagged for review."""
    views: SubjectViews = request.app.state.views
    return await run_in_threadpool(
        _committed,
        views.db,
        views.break_glass,
        user,
        subject_id,
        body.purpose,
        body.reason,
        context,
    )
