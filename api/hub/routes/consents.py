"""``/v1/consents``: the consent registry (see :mod:`api.hub.consents.service`).

The consenting agency's ``data_steward`` or ``privacy_officer`` creates (FHIR R4
Consent JSON or our own shape), revokes (a new version, effective on the next
request) and imports consents; auditors read every agency's, stewards and
privacy officers their own. Export is a FHIR ``Bundle`` of every version.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from api.errors import InvalidRequest
from api.hub.consents import service as consents
from api.hub.deps import AuditContextDep, SessionDep, require_roles
from api.hub.identity.service import Principal
from api.schemas.consents import (
    ConsentBundlePublic,
    ConsentImportPublic,
    ConsentListPublic,
    ConsentPublic,
)
from policy.vocabulary import Role

__all__ = ["router"]

Editor = Annotated[Principal, Depends(require_roles(*consents.EDITOR_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(*consents.EDITOR_ROLES, Role.AUDITOR))]
router = APIRouter(prefix="/v1/consents", tags=["consents"])
JsonBody = Annotated[dict[str, Any], Body()]


@router.post("", status_code=201)
def create(
    body: JsonBody, user: Editor, session: SessionDep, context: AuditContextDep
) -> ConsentPublic:
    """Record a consent: a FHIR R4 ``Consent`` resource, or ``{record_id, grantor, …}``."""
    consent = consents.create_consent(session, user, context, body)
    return consents.consent_public(consent)


@router.post("/{consent_id}/revoke", status_code=201)
def revoke(
    consent_id: str, user: Editor, session: SessionDep, context: AuditContextDep
) -> ConsentPublic:
    """Revoke: a new, inactive version; the next request sees it."""
    return consents.consent_public(consents.revoke_consent(session, user, context, consent_id))


@router.get("")
def list_for_subject(
    user: Reader,
    session: SessionDep,
    subject_id: str | None = None,
    consent_id: str | None = None,
    history: bool = False,
    format: str = "json",
) -> ConsentListPublic | ConsentBundlePublic:
    """Consents of a subject's member records (latest versions), or one consent's versions.

    ``format=fhir`` answers with a FHIR R4 Bundle of Consent resources instead.
    """
    if (subject_id is None) == (consent_id is None):
        raise InvalidRequest("give exactly one of subject_id and consent_id")
    found = consents.list_consents(
        session, user, subject_id=subject_id, consent_id=consent_id, history=history
    )
    if format == "fhir":
        return consents.fhir_bundle(found)
    return ConsentListPublic(consents=[consents.consent_public(c) for c in found])


@router.get("/export")
def export(user: Reader, session: SessionDep, agency: str | None = None) -> ConsentBundlePublic:
    """An agency's consents, every version, as a FHIR R4 Bundle of Consent resources."""
    return consents.export_consents(session, user, agency or user.agency)


@router.post("/import", status_code=201)
def import_(
    body: JsonBody, user: Editor, session: SessionDep, context: AuditContextDep
) -> ConsentImportPublic:
    """Store FHIR R4 Consent resources (a Bundle, or one resource), all or nothing."""
    stored = consents.import_consents(session, user, context, body)
    return ConsentImportPublic(
        imported=len(stored), consents=[consents.consent_public(c) for c in stored]
    )
