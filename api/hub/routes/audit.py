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
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.errors import Conflict, InvalidRequest, NotFound, NotReady
from api.hub.audit import EventKind, RequestContext, record
from api.hub.audit.context import request_context
from api.hub.audit.events import DECISIONS, MAX_REASON_CHARS
from api.hub.audit.heads import consistency_view, head_view, inclusion_view, list_heads
from api.hub.audit.search import (
    EventFilter,
    break_glass_queue,
    csv_chunks,
    disclosures,
    json_lines,
    search_events,
)
from api.hub.audit.service import AuditService
from api.hub.audit.signing import public_pem
from api.hub.audit.tables import AuditEvent, AuditReview
from api.hub.deps import SessionDep, get_engine, require_roles
from api.hub.identity.roles import Role
from api.hub.identity.service import Principal
from api.hub.tables import utcnow
from policy.vocabulary import CATEGORIES, PURPOSES

__all__ = ["router"]

Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]
Context = Annotated[RequestContext, Depends(request_context)]
router = APIRouter(prefix="/v1/audit", tags=["audit"])


def _service(request: Request) -> AuditService:
    service: AuditService = request.app.state.audit
    return service


def _logged(
    session: Session, auditor: Principal, context: RequestContext, action: str, **details: Any
) -> None:
    """Record this access to the log and commit it before anything is returned."""
    record(
        session,
        EventKind.AUDIT_ACCESS,
        actor=auditor,
        context=context,
        subject_id=details.pop("subject_id", None),
        details={"action": action, **details},
    )
    session.commit()


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
Offset = Annotated[int, Query(ge=0)]


@router.get("/events")
def search(
    criteria: Filter,
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    limit: Limit = 50,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Matching events, newest first; pass ``next_before_id`` back for the next page."""
    events = search_events(session, criteria, limit, before_id)
    _logged(session, auditor, context, "search", results=len(events), **criteria.as_details())
    more = len(events) == limit
    return {"events": events, "next_before_id": events[-1]["id"] if more else None}


@router.get("/events/export", response_class=StreamingResponse)
def export(
    criteria: Filter,
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    engine: Annotated[Engine, Depends(get_engine)],
    format: Literal["csv", "jsonl"] = "csv",
) -> StreamingResponse:
    """Every matching event, oldest first, as CSV or JSON Lines."""
    _logged(session, auditor, context, "export", format=format, **criteria.as_details())

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
) -> dict[str, Any]:
    """Break-glass events awaiting review (``reviewed=true``: those already reviewed)."""
    items = break_glass_queue(session, reviewed, limit, offset)
    _logged(session, auditor, context, "break_glass_queue", results=len(items), reviewed=reviewed)
    return {"events": items, "reviewed": reviewed, "offset": offset}


class ReviewNote(BaseModel):
    """An auditor's note on a break-glass use (no identifiers)."""

    note: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


@router.post("/break-glass/{event_id}/review", status_code=201)
def review_break_glass(
    event_id: int, body: ReviewNote, auditor: Auditor, context: Context, session: SessionDep
) -> dict[str, Any]:
    """Mark a break-glass event reviewed, with a note (itself an audit event)."""
    event = session.get(AuditEvent, event_id)
    if event is None or not event.break_glass:
        raise NotFound("no such break-glass event")
    if session.exec(select(AuditReview).where(AuditReview.event_id == event_id)).first():
        raise Conflict("that break-glass event is already reviewed")
    note = " ".join(body.note.split())  # as the event stores it
    record(
        session,
        EventKind.AUDIT_BREAK_GLASS_REVIEW,
        actor=auditor,
        context=context,
        subject_id=event.subject_id,
        reason=note,
        details={"event_id": event_id},
    )
    review = AuditReview(
        event_id=event_id, reviewed_by=auditor.username, reviewed_at=utcnow(), note=note
    )
    session.add(review)
    session.commit()
    return {"event_id": event_id, "reviewed_by": auditor.username, "note": note}


@router.get("/subjects/{subject_id}/disclosures")
def accounting(
    subject_id: str, auditor: Auditor, context: Context, session: SessionDep
) -> dict[str, Any]:
    """The person's accounting of disclosures over the last six years."""
    report = disclosures(session, subject_id)
    _logged(
        session,
        auditor,
        context,
        "disclosures",
        subject_id=subject_id,
        results=len(report["disclosures"]),
    )
    return report


@router.get("/verify")
def verify(
    request: Request, auditor: Auditor, context: Context, session: SessionDep
) -> dict[str, Any]:
    """Verify the whole log; names the first altered, inserted or deleted event."""
    _logged(session, auditor, context, "verify")
    return _service(request).verify().as_dict()


@router.get("/tree-heads")
def tree_heads(
    auditor: Auditor, context: Context, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Signed tree heads, newest first."""
    heads = [head_view(h) for h in list_heads(session, limit, offset)]
    _logged(session, auditor, context, "tree_heads", results=len(heads))
    return {"tree_heads": heads, "offset": offset}


@router.post("/tree-heads", status_code=201)
def sign_tree_head(
    request: Request, auditor: Auditor, context: Context, session: SessionDep
) -> dict[str, Any]:
    """Seal what is queued and sign a tree head now."""
    _logged(session, auditor, context, "sign_tree_head")
    return head_view(_service(request).sealer.sign_head())


@router.get("/proofs/inclusion")
def inclusion(
    event_id: int,
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """The audit path of an event (default: in the latest signed tree)."""
    view = inclusion_view(session, event_id, tree_size)
    _logged(session, auditor, context, "inclusion_proof", event_id=event_id)
    return view


@router.get("/proofs/consistency")
def consistency(
    auditor: Auditor,
    context: Context,
    session: SessionDep,
    first: Annotated[int, Query(ge=0)],
    second: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Proof that the log of ``first`` entries is a prefix of the ``second``."""
    view = consistency_view(session, first, second)
    _logged(session, auditor, context, "consistency_proof", first=first)
    return view


@router.get("/public-key")
def public_key(
    request: Request, auditor: Auditor, context: Context, session: SessionDep
) -> dict[str, Any]:
    """The Ed25519 public key tree heads are signed with (PEM) and its id."""
    service = _service(request)
    if service.signer is None:
        raise NotReady("no audit signing key is configured")
    _logged(session, auditor, context, "public_key")
    return {"key_id": service.signer.key_id, "public_key": public_pem(service.signer.public_key)}
