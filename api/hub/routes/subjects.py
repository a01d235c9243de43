"""``/v1/subjects``: resolve a person, list a subject's records, read its context.

Resolve answers with subject ids and scores only. The subject view is filtered
category by category by the published policy and the consent registry
(:mod:`api.hub.views.service`): allowed categories returned, withheld ones
with a reason code, *conceal existence* ones absent, agencies that disclose
nothing to the user absent too. ``POST …/break-glass``
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
from starlette.concurrency import run_in_threadpool

from api.db import session_scope
from api.errors import InvalidRequest
from api.hub.deps import AuditContextDep, SessionDep, require_roles, services_of
from api.hub.identity.service import Principal
from api.hub.linking.members import subject_members
from api.hub.linking.resolve import resolve_candidates
from api.hub.views.service import SubjectViews
from api.schemas.subjects import ResolvePublic, SubjectRecordsPublic
from api.schemas.views import BreakGlassPublic, SubjectViewPublic
from policy.vocabulary import PURPOSES, RESPONDER_ROLES, Role

__all__ = ["router"]

Responder = Annotated[Principal, Depends(require_roles(*RESPONDER_ROLES))]
Reviewer = Annotated[Principal, Depends(require_roles(Role.LINKAGE_REVIEWER))]
router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

_MAX_QUERY = 64 * 1024
T = TypeVar("T")


@router.post("/resolve")
async def resolve(request: Request, user: Responder, context: AuditContextDep) -> ResolvePublic:
    """Candidates for one encoded record (a line of ``crosswalk encode``), best first."""
    body = await request.body()
    if len(body) > _MAX_QUERY:
        raise InvalidRequest("a resolve query is one encoded record")
    services = services_of(request)
    return await resolve_candidates(services.linking, services.resolver, user, body, context)


@router.get("/{subject_id}/records")
def subject_records(
    subject_id: str, user: Reviewer, session: SessionDep, context: AuditContextDep
) -> SubjectRecordsPublic:
    """The subject's member records: agency, record id, match probability — no context."""
    return subject_members(session, user, subject_id, context)


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
) -> SubjectViewPublic:
    """The subject's context by agency and category, as policy and consent allow."""
    views: SubjectViews = services_of(request).views
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
) -> BreakGlassPublic:
    """A short-lived emergency grant, where a rule allows break-glass; flagged for review."""
    views: SubjectViews = services_of(request).views
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
