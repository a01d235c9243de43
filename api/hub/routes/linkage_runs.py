"""``/v1/linkage``: re-link runs and the review queue (role ``linkage_reviewer``).

Admins may also start runs and watch them. Starting a run and deciding a review
item are audit events.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from api.hub.deps import AuditContextDep, SessionDep, require_roles, services_of
from api.hub.identity.service import Principal
from api.hub.linking.relink import run_view
from api.hub.linking.review_decisions import decide, open_items
from api.hub.linking.service import LinkService
from api.schemas.linking import LinkageRunPublic, ReviewDecisionPublic, ReviewQueuePublic
from api.web.int_bounds import INTEGER_MAX, RowId
from policy.vocabulary import Role

__all__ = ["router"]

Operator = Annotated[Principal, Depends(require_roles(Role.LINKAGE_REVIEWER, Role.ADMIN))]
Reviewer = Annotated[Principal, Depends(require_roles(Role.LINKAGE_REVIEWER))]
router = APIRouter(prefix="/v1/linkage", tags=["linkage"])


def _service(request: Request) -> LinkService:
    service: LinkService = services_of(request).linking
    return service


@router.post("/runs", status_code=202)
def start_run(request: Request, user: Operator, context: AuditContextDep) -> LinkageRunPublic:
    """Re-link the whole store in the background; poll the returned run."""
    return run_view(services_of(request).runs.start(user.user_id, actor=user, context=context))


@router.get("/runs/{run_id}")
def get_run(
    run_id: RowId, request: Request, _user: Operator, session: SessionDep
) -> LinkageRunPublic:
    """A run's status, stage and progress (0-1)."""
    return run_view(services_of(request).runs.get(session, run_id))


@router.get("/review")
def review_queue(
    request: Request,
    _user: Reviewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INTEGER_MAX)] = 0,
) -> ReviewQueuePublic:
    """Open possible matches, most probable first."""
    return ReviewQueuePublic(items=open_items(_service(request), limit, offset))


class Decision(BaseModel):
    """A reviewer's verdict on one possible match."""

    decision: Literal["same", "different"]


@router.post("/review/{item_id}")
def decide_item(
    item_id: RowId, body: Decision, request: Request, user: Reviewer, context: AuditContextDep
) -> ReviewDecisionPublic:
    """Settle a possible match; it becomes a must-link or cannot-link constraint."""
    return decide(_service(request), user, item_id, body.decision, context)
