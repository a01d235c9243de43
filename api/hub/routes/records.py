"""``/v1/records``: a data steward submits and retracts their agency's encodings.

The body is NDJSON, exactly the lines ``crosswalk encode`` writes. The whole
batch is validated first (:mod:`linkage.admission.validation`); a refused batch
stores nothing and the response lists each bad line's reason. Accepted records
are upserted by ``record_id`` and linked incrementally in one transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api.errors import UnsupportedMediaType
from api.hub.audit.context import context_of
from api.hub.deps import AuditContextDep, require_roles, services_of
from api.hub.identity.service import Principal
from api.hub.linking.service import LinkService
from api.schemas.records import RecordRetractedPublic, SubmissionPublic
from policy.vocabulary import Role

__all__ = ["router"]

Steward = Annotated[Principal, Depends(require_roles(Role.DATA_STEWARD))]
router = APIRouter(prefix="/v1/records", tags=["records"])

_NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")


@router.post("", responses={413: {}, 415: {}, 422: {}})
async def submit_records(request: Request, steward: Steward) -> SubmissionPublic:
    """Upsert and link a batch of encoded records of the steward's agency."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _NDJSON:
        raise UnsupportedMediaType("send encoded records as application/x-ndjson")
    service: LinkService = services_of(request).linking
    body = await request.body()  # at most max_body_bytes: api.web.body_limit saw to it
    outcome = await run_in_threadpool(service.submit, steward, body, context_of(request))
    return outcome.public()


@router.delete("/{record_id}")
def retract_record(
    record_id: str, request: Request, steward: Steward, context: AuditContextDep
) -> RecordRetractedPublic:
    """Retract one of the steward's agency's records (its context is deleted)."""
    service: LinkService = services_of(request).linking
    return service.retract(steward, record_id, context)
