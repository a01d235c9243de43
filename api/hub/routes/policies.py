"""``/v1/policies``: the privacy-officer workflow (see :mod:`api.hub.policies.admin`).

Privacy officers, the program privacy officer and auditors read the published
policy (as JSON, or as the commented policy file with ``?format=file``), its
versions and diffs, and ask what-if and explain. Writing — drafts, publish,
rollback — is for a ``privacy_officer`` on its own agency's scope and the
``program_privacy_officer`` on the program-wide scope ``*``; so is reading an
unpublished draft (another scope's draft is absent from listings and a 404).
The writes are :mod:`api.hub.policies.admin`, the reads :mod:`api.hub.policies.reads`;
each answers with its :mod:`api.schemas.policies` model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from api.hub.deps import AuditContextDep, SessionDep, require_roles, services_of
from api.hub.identity.service import Principal
from api.hub.policies import admin as policy_admin
from api.hub.policies import reads as policy_reads
from api.hub.policies.service import PolicyService
from api.hub.policies.store import published_policy
from api.schemas.policies import (
    ExplainPublic,
    PolicyDiffPublic,
    PublishedPolicyPublic,
    PublishPublic,
    RollbackPublic,
    VersionListPublic,
    VersionPublic,
    WhatIfPublic,
)
from api.web.int_bounds import INTEGER_MAX, RowId
from policy.vocabulary import Role

__all__ = ["router"]

Editor = Annotated[
    Principal, Depends(require_roles(Role.PRIVACY_OFFICER, Role.PROGRAM_PRIVACY_OFFICER))
]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.PRIVACY_OFFICER, Role.PROGRAM_PRIVACY_OFFICER, Role.AUDITOR)),
]
router = APIRouter(prefix="/v1/policies", tags=["policies"])


def _service(request: Request) -> PolicyService:
    service: PolicyService = services_of(request).policy
    return service


class DraftRequest(BaseModel):
    """A draft of one scope: ``*`` (program-wide) or an agency name."""

    scope: str = Field(description="'*' for program-wide guard rails, else your agency")
    note: str = Field(default="", max_length=500)
    rules: list[dict[str, Any]] = Field(
        description="each {role, category, purpose, condition, effect}"
    )
    shares_with: list[Any] = Field(default_factory=list, description="recipient agencies")


_POLICY_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The policy in force; with `?format=file`, the commented policy file.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.get("", response_model=PublishedPolicyPublic, responses=_POLICY_FILE)
def published(
    request: Request,
    _user: Reader,
    session: SessionDep,
    format: Literal["json", "file"] = "json",
) -> PublishedPolicyPublic | PlainTextResponse:
    """The policy in force: every scope's latest published version, combined."""
    current = published_policy(session)
    if format == "file":
        return PlainTextResponse(policy_admin.policy_file(current))
    return policy_reads.published_public(current, _service(request).active)


@router.post("/drafts", status_code=201)
def create_draft(
    body: DraftRequest, request: Request, user: Editor, context: AuditContextDep
) -> VersionPublic:
    """Store a validated draft (a typo is a 422 naming the field)."""
    version = policy_admin.create_draft(
        _service(request), user, context, scope=body.scope, note=body.note,
        entries=body.rules, shares_with=body.shares_with,
    )  # fmt: skip
    return policy_reads.version_public(version)


@router.get("/versions")
def versions(user: Reader, session: SessionDep, scope: str | None = None) -> VersionListPublic:
    """Every version (of one scope) you may read, newest first: others' drafts left out."""
    return policy_reads.version_list(session, user, scope)


@router.get("/versions/{version_id}")
def version(
    version_id: RowId, request: Request, user: Reader, session: SessionDep, context: AuditContextDep
) -> VersionPublic:
    """One version with its rules and opt-ins (another scope's draft: 404)."""
    return policy_reads.version_public(
        policy_reads.readable_version(_service(request), session, user, context, version_id)
    )


@router.get("/diff")
def diff(
    request: Request,
    user: Reader,
    session: SessionDep,
    context: AuditContextDep,
    from_version: Annotated[int, Query(alias="from", ge=1, le=INTEGER_MAX)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=INTEGER_MAX)],
) -> PolicyDiffPublic:
    """Rules and opt-ins added and removed from one version to another you may read."""
    return policy_reads.diff(_service(request), session, user, context, from_version, to_version)


@router.post("/versions/{version_id}/publish")
def publish(
    version_id: RowId, request: Request, user: Editor, context: AuditContextDep
) -> PublishPublic:
    """Publish a draft of your scope; every process uses it within a second."""
    return policy_admin.publish(_service(request), user, context, version_id)


@router.post("/versions/{version_id}/rollback")
def rollback(
    version_id: RowId, request: Request, user: Editor, context: AuditContextDep
) -> RollbackPublic:
    """Publish a copy of an old version of your scope."""
    return policy_admin.rollback(_service(request), user, context, version_id)


@router.post("/versions/{version_id}/what-if")
def what_if(
    version_id: RowId,
    request: Request,
    user: Reader,
    context: AuditContextDep,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 1000,
) -> WhatIfPublic:
    """Every decision the version would change against the published policy."""
    return policy_reads.what_if_version(_service(request), user, context, version_id, limit)


@router.get("/explain")
def explain(
    request: Request,
    user: Reader,
    context: AuditContextDep,
    role: str,
    agency: str,
    owner: str,
    category: str,
    purpose: str,
    consent: str = "none",
    break_glass: bool = False,
    cjis_authorized: bool = False,
    version_id: Annotated[int | None, Query(ge=1, le=INTEGER_MAX)] = None,
) -> ExplainPublic:
    """The decision for one request and the rule that decided (published or a version)."""
    query = {
        "role": role, "agency": agency, "owner": owner, "category": category,
        "purpose": purpose, "consent": consent, "break_glass": break_glass,
        "cjis_authorized": cjis_authorized,
    }  # fmt: skip
    return policy_reads.explain(_service(request), user, context, query, version_id)
