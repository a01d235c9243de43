"""``/v1/policies``: the privacy-officer workflow (see :mod:`api.hub.policies.admin`).

Privacy officers, the program privacy officer and auditors read the published
policy (as JSON, or as the commented policy file with ``?format=file``), its
versions and diffs, and ask what-if and explain. Writing — drafts, publish,
rollback — is for a ``privacy_officer`` on its own agency's scope and the
``program_privacy_officer`` on the program-wide scope ``*``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from api.hub.deps import AuditContextDep, SessionDep, require_roles
from api.hub.identity.roles import Role
from api.hub.identity.service import Principal
from api.hub.policies import admin as policy_admin
from api.hub.policies.service import PolicyService
from api.hub.policies.store import list_versions, load_version, published_policy
from policy.rules import diff_policies

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
    service: PolicyService = request.app.state.policy
    return service


class DraftRequest(BaseModel):
    """A draft of one scope: ``*`` (program-wide) or an agency name."""

    scope: str = Field(description="'*' for program-wide guard rails, else your agency")
    note: str = Field(default="", max_length=500)
    rules: list[dict[str, Any]] = Field(
        description="each {role, category, purpose, condition, effect}"
    )
    shares_with: list[Any] = Field(default_factory=list, description="recipient agencies")


@router.get("", response_model=None)
def published(
    request: Request,
    _user: Reader,
    session: SessionDep,
    format: Literal["json", "file"] = "json",
) -> dict[str, Any] | PlainTextResponse:
    """The policy in force: every scope's latest published version, combined."""
    current = published_policy(session)
    if format == "file":
        return PlainTextResponse(policy_admin.policy_file(current))
    active = _service(request).active
    return {
        "policy_version": current.policy.version,
        "loaded": active.version,
        "versions": current.versions,
        "rules": [policy_admin.rule_json(r, active) for r in current.policy.rules],
        "sharing": [{"owner": o, "recipient": r} for o, r in sorted(current.policy.sharing)],
    }


@router.post("/drafts", status_code=201)
def create_draft(
    body: DraftRequest, request: Request, user: Editor, context: AuditContextDep
) -> dict[str, Any]:
    """Store a validated draft (a typo is a 422 naming the field)."""
    version = policy_admin.create_draft(
        _service(request), user, context, scope=body.scope, note=body.note,
        entries=body.rules, shares_with=body.shares_with,
    )  # fmt: skip
    return _version_json(version)


@router.get("/versions")
def versions(_user: Reader, session: SessionDep, scope: str | None = None) -> dict[str, Any]:
    """Every version (of one scope), newest first."""
    return {"versions": [v.summary() for v in list_versions(session, scope)]}


@router.get("/versions/{version_id}")
def version(version_id: int, _user: Reader, session: SessionDep) -> dict[str, Any]:
    """One version with its rules and opt-ins."""
    return _version_json(load_version(session, version_id))


def _version_json(version: Any) -> dict[str, Any]:
    return {
        **version.summary(),
        "rules": [policy_admin.rule_json(r) for r in version.rules],
        "rule_ids": list(version.rule_ids),
    }


@router.get("/diff")
def diff(
    _user: Reader,
    session: SessionDep,
    from_version: Annotated[int, Query(alias="from")],
    to_version: Annotated[int, Query(alias="to")],
) -> dict[str, Any]:
    """Rules and opt-ins added and removed from one version to another."""
    change = diff_policies(
        load_version(session, from_version).policy_set(),
        load_version(session, to_version).policy_set(),
    )
    return {
        "from": from_version,
        "to": to_version,
        "added_rules": [policy_admin.rule_json(r) for r in change.added_rules],
        "removed_rules": [policy_admin.rule_json(r) for r in change.removed_rules],
        "added_sharing": [{"owner": o, "recipient": r} for o, r in change.added_sharing],
        "removed_sharing": [{"owner": o, "recipient": r} for o, r in change.removed_sharing],
    }


@router.post("/versions/{version_id}/publish")
def publish(
    version_id: int, request: Request, user: Editor, context: AuditContextDep
) -> dict[str, Any]:
    """Publish a draft of your scope; every process uses it within a second."""
    return policy_admin.publish(_service(request), user, context, version_id)


@router.post("/versions/{version_id}/rollback")
def rollback(
    version_id: int, request: Request, user: Editor, context: AuditContextDep
) -> dict[str, Any]:
    """Publish a copy of an old version of your scope."""
    return policy_admin.rollback(_service(request), user, context, version_id)


@router.post("/versions/{version_id}/what-if")
def what_if(
    version_id: int,
    request: Request,
    _user: Reader,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 1000,
) -> dict[str, Any]:
    """Every decision the version would change against the published policy."""
    return policy_admin.what_if_version(_service(request), version_id, limit)


@router.get("/explain")
def explain(
    request: Request,
    _user: Reader,
    role: str,
    agency: str,
    owner: str,
    category: str,
    purpose: str,
    consent: str = "none",
    break_glass: bool = False,
    cjis_authorized: bool = False,
    version_id: int | None = None,
) -> dict[str, Any]:
    """The decision for one request and the rule that decided (published or a version)."""
    query = {
        "role": role, "agency": agency, "owner": owner, "category": category,
        "purpose": purpose, "consent": consent, "break_glass": break_glass,
        "cjis_authorized": cjis_authorized,
    }  # fmt: skip
    return policy_admin.explain(_service(request), query, version_id)
