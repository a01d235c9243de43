"""``/v1/records``: a data steward submits and retracts their agency's encodings.

The body is NDJSON, exactly the lines ``crosswalk encode`` writes. The whole
batch is validated first (:mod:`linkage.admission.validation`); a refused batch
stores nothing and the response lists each bad line's reason. Accepted records
are upserted by ``record_id`` and linked incrementally in one transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api.errors import PayloadTooLarge, UnsupportedMediaType
from api.hub.audit.context import context_of
from api.hub.deps import AuditContextDep, require_roles
from api.hub.identity.roles import Role
from api.hub.identity.service import Principal
from api.hub.linking.service import LinkService

__all__ = ["router"]

Steward = Annotated[Principal, Depends(require_roles(Role.DATA_STEWARD))]
router = APIRouter(prefix="/v1/records", tags=["records"])

_NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("", responses={413: {}, 415: {}, 422: {}})
async def submit_records(request: Request, steward: Steward) -> dict[str, Any]:
    """Upsert and link a batch of encoded records of the steward's agency."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _NDJSON:
        raise UnsupportedMediaType("send encoded records as application/x-ndjson")
    service: LinkService = request.app.state.linking
    body = await _read_body(request, service.settings.max_body_bytes)
    outcome = await run_in_threadpool(service.submit, steward, body, context_of(request))
    return outcome.as_dict()


@router.delete("/{record_id}")
def retract_record(
    record_id: str, request: Request, steward: Steward, context: AuditContextDep
) -> dict[str, Any]:
    """Retract one of the steward's agency's records (its context is deleted)."""
    service: LinkService = request.app.state.linking
    return service.retract(steward, record_id, context)
