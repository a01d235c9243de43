"""``/v1/audit``: the auditor's tools (role ``auditor`` only).

Search and export events, work the break-glass review queue, produce a
person's accounting of disclosures, verify the log, list and sign tree heads,
and fetch inclusion and consistency proofs. Every one of these reads of the log
is itself recorded (kind ``audit.access``) and committed *before* the response
is returned, so an unrecorded look at the log cannot happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session

from api.errors import InvalidRequest, NotReady
from api.hub.audit import EventKind, RequestContext, access
from api.hub.audit.access import record_access
from api.hub.audit.context import request_context
from api.hub.audit.events import DECISIONS, MAX_REASON_CHARS
from api.hub.audit.heads import consistency_view, head_view, inclusion_view, list_heads
from api.hub.audit.search import EventFilter, csv_chunks, json_lines
from api.hub.audit.service import AuditService
from api.hub.audit.signing import public_pem
from api.hub.deps import SessionDep, get_engine, require_roles, services_of
from api.hub.identity.service import Principal
from api.hub.linking.lineage import subject_lineage
from api.schemas.audit import (
    AuditEventPagePublic,
    BreakGlassQueuePublic,
    BreakGlassReviewedPublic,
    ConsistencyProofPublic,
    DisclosuresPublic,
    InclusionProofPublic,
    PublicKeyPublic,
    TreeHeadPublic,
    TreeHeadsPublic,
    VerifyReportPublic,
)
from api.web.int_bounds import BIGINT_MAX, INTEGER_MAX, BigRowId
from policy.vocabulary import CATEGORIES, PURPOSES, Role

__all__ = ["router"]

Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]
Context = Annotated[RequestContext, Depends(request_context)]
router = APIRouter(prefix="/v1/audit", tags=["audit"])


def _service(request: Request) -> AuditService:
    service: AuditService = services_of(request).audit
    return service


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidRequest(f"unknown {name}; one of: {', '.join(allowed)}")
    return value


def event_filter(
    user: Annotated[str | None, Query(max_length=64)] = None,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    category: str | None = None,
    purpose: str | None = None,
    decision: str | None = None,
    kind: str | None = None,
    break_glass: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> EventFilter:
    """Search criteria from the query string (vocabularies checked)."""
    return EventFilter(
        user=user,
        agency=agency,
        subject_id=subject_id,
        category=_choice("category", category, CATEGORIES),
        purpose=_choice("purpose", purpose, PURPOSES),
        decision=_choice("decision", decision, DECISIONS),
        kind=_choice("kind", kind, tuple(k.value for k in EventKind)),
        break_glass=break_glass,
        since=since,
        until=until,
    )


Filter = Annotated[EventFilter, Depends(event_filter)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INTEGER_MAX)]


@router.get("/events")
def search(
    criteria: Filter,
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    limit: Limit = 50,
    before_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> AuditEventPagePublic:
    """Matching events, newest first; pass ``next_before_id`` back for the next page."""
    return access.search_page(session, auditor, context, criteria, limit, before_id)


@router.get(
    "/events/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The events' fields as CSV columns (`seq` first, lists joined by "
            "`;`, details as JSON), or one JSON object per line",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
def export(
    criteria: Filter,
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    engine: Annotated[Engine, Depends(get_engine)],
    format: Literal["csv", "jsonl"] = "csv",
) -> StreamingResponse:
    """Every matching event, oldest first, as CSV or JSON Lines."""
    record_access(session, auditor, context, "export", format=format, **criteria.as_details())

    def chunks() -> Iterator[str | bytes]:
        with Session(engine) as reader:
            yield from (csv_chunks if format == "csv" else json_lines)(reader, criteria)

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    name = f"audit-events.{format}"
    return StreamingResponse(
        chunks(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/break-glass")
def break_glass(
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    reviewed: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> BreakGlassQueuePublic:
    """Break-glass events awaiting review (``reviewed=true``: those already reviewed)."""
    return access.break_glass_page(session, auditor, context, reviewed, limit, offset)


class ReviewNote(BaseModel):
    """An auditor's note on a break-glass use (no identifiers)."""

    note: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


@router.post("/break-glass/{event_id}/review", status_code=201)
def review_break_glass(
    event_id: BigRowId, body: ReviewNote, auditor: Auditor, context: Context, session: SessionDep
) -> BreakGlassReviewedPublic:
    """Mark a break-glass event reviewed, with a note (itself an audit event)."""
    return access.review_break_glass(session, auditor, context, event_id, body.note)


@router.get("/subjects/{subject_id}/disclosures")
def accounting(
    subject_id: str, auditor: Auditor, context: Context, session: SessionDep
) -> DisclosuresPublic:
    """The person's accounting of disclosures over the last six years."""
    lineage = subject_lineage(session, subject_id)
    return access.accounting(session, auditor, context, subject_id, lineage)


@router.get("/verify")
def verify(
    request: Request, auditor: Auditor, context: Context, session: SessionDep
) -> VerifyReportPublic:
    """Verify the whole log; names the first altered, inserted or deleted event."""
    record_access(session, auditor, context, "verify")
    report = _service(request).verify()
    return VerifyReportPublic.model_validate(report, from_attributes=True)


@router.get("/tree-heads")
def tree_heads(
    auditor: Auditor, context: Context, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> TreeHeadsPublic:
    """Signed tree heads, newest first."""
    heads = [head_view(h) for h in list_heads(session, limit, offset)]
    record_access(session, auditor, context, "tree_heads", results=len(heads))
    return TreeHeadsPublic(tree_heads=heads, offset=offset)


@router.post("/tree-heads", status_code=201)
def sign_tree_head(
    request: Request, auditor: Auditor, context: Context, session: SessionDep
) -> TreeHeadPublic:
    """Seal what is queued and sign a tree head now."""
    record_access(session, auditor, context, "sign_tree_head")
    return head_view(_service(request).sealer.sign_head())


@router.get("/proofs/inclusion")
def inclusion(
    event_id: Annotated[int, Query(ge=1, le=BIGINT_MAX)],
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    tree_size: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> InclusionProofPublic:
    """The audit path of an event (default: in the latest signed tree)."""
    view = inclusion_view(session, event_id, tree_size)
    record_access(session, auditor, context, "inclusion_proof", event_id=event_id)
    return view


@router.get("/proofs/consistency")
def consistency(
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    first: Annotated[int, Query(ge=0, le=BIGINT_MAX)],
    second: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> ConsistencyProofPublic:
    """Proof that the log of ``first`` entries is a prefix of the ``second``."""
    view = consistency_view(session, first, second)
    record_access(session, auditor, context, "consistency_proof", first=first)
    return view


@router.get("/public-key")
def public_key(
    request: Request, auditor: Auditor, context: Context, session: SessionDep
) -> PublicKeyPublic:
    """The Ed25519 public key tree heads are signed with (PEM) and its id."""
    service = _service(request)
    if service.signer is None:
        raise NotReady("no audit signing key is configured")
    record_access(session, auditor, context, "public_key")
    signer = service.signer
    return PublicKeyPublic(key_id=signer.key_id, public_key=public_pem(signer.public_key))
