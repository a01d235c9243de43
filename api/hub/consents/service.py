"""The consent registry: create, revoke, list, FHIR R4 import and export.

Consents are stored version by version (:class:`api.hub.consents.tables.ConsentRow`)
and are never edited: a revocation is a new version with status ``inactive``,
which the next request reads (nothing is cached). A consent names its subject
through the consenting agency's own record id, so the consents that apply to a
subject are those of its current member records — they follow the records
through merges and splits with no bookkeeping.

A consent belongs to its agency for good: it is identified by (agency, consent
id), every lookup is scoped to the caller's agency (auditors excepted, who
only read), and no agency can write a version of another's. So an outsider's
answer about an id — 404 on revoke, nothing listed, 403 for a document naming
another agency, 201 for its own consent that reuses the id — is the one it gets
for an id that does not exist. Every time is stored in UTC, and ``recorded`` is
the hub's receipt time (one per request), never a client's ``lastUpdated``: it
decides which of a subject's decisions is the last word.

Only the consenting agency's ``data_steward`` or ``privacy_officer`` creates,
revokes or imports its consents; auditors read every agency's, stewards and
privacy officers their own. Every change is a ``consent.change`` event with ids
only (consent id, version, status) — never the grantor or anything else a
person wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, tuple_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.db import as_utc, utcnow
from api.errors import Conflict, NotFound, PermissionDenied
from api.hub.audit import EventKind, RequestContext, record
from api.hub.consents.tables import ConsentRow
from api.hub.identity.service import Principal
from api.hub.records.tables import StoredRecord
from api.schemas.consents import (
    ConsentBundlePublic,
    ConsentPublic,
    FhirBundleEntryPublic,
    FhirConsentPublic,
    RecipientPublic,
)
from policy.consent import (
    CONSENT_ID,
    Consent,
    Recipient,
    in_utc,
    latest_versions,
    revoke,
    validate_consent,
)
from policy.consent_fhir import from_fhir, to_fhir
from policy.errors import ConsentError, ConsentFormatError
from policy.vocabulary import Role

__all__ = [
    "EDITOR_ROLES",
    "consent_public",
    "consents_of_records",
    "create_consent",
    "export_consents",
    "fhir_bundle",
    "import_consents",
    "list_consents",
    "revoke_consent",
]

#: Roles that create and revoke their own agency's consents.
EDITOR_ROLES = frozenset({Role.DATA_STEWARD, Role.PRIVACY_OFFICER})

_CONSENTS = ConsentRow.__table__  # type: ignore[attr-defined]
# Built once (a Core statement with an expanding parameter) and cached compiled: every
# subject view reads the consents of its member records.
_OF_RECORDS = select(_CONSENTS).where(
    tuple_(_CONSENTS.c.owner, _CONSENTS.c.record_id).in_(bindparam("records", expanding=True))
)


def _to_row(consent: Consent, created_by: int | None) -> ConsentRow:
    recipients = [{"agency": r.agency, "role": r.role} for r in consent.recipients]
    return ConsentRow(
        consent_id=consent.consent_id,
        version=consent.version,
        status=consent.status,
        owner=consent.owner,
        record_id=consent.record_id,
        grantor=consent.grantor,
        recipients=orjson.dumps(recipients).decode(),
        categories=orjson.dumps(sorted(consent.categories)).decode(),
        purposes=orjson.dumps(sorted(consent.purposes)).decode(),
        period_start=consent.period_start,
        period_end=consent.period_end,
        recorded=consent.recorded,
        created_by=created_by,
    )


def _from_row(row: ConsentRow | Row[Any]) -> Consent:
    return Consent(
        consent_id=row.consent_id,
        version=row.version,
        status=row.status,
        owner=row.owner,
        record_id=row.record_id,
        grantor=row.grantor,
        recipients=tuple(Recipient(**r) for r in orjson.loads(row.recipients)),
        categories=frozenset(orjson.loads(row.categories)),
        purposes=frozenset(orjson.loads(row.purposes)),
        period_start=as_utc(row.period_start) if row.period_start else None,
        period_end=as_utc(row.period_end) if row.period_end else None,
        recorded=as_utc(row.recorded),
    )


def consent_public(consent: Consent) -> ConsentPublic:
    """Our own response shape of one consent version."""
    return ConsentPublic(
        consent_id=consent.consent_id,
        version=consent.version,
        status=consent.status,
        agency=consent.owner,
        record_id=consent.record_id,
        grantor=consent.grantor,
        recipients=[RecipientPublic(agency=r.agency, role=r.role) for r in consent.recipients],
        categories=sorted(consent.categories),
        purposes=sorted(consent.purposes),
        period_start=consent.period_start.isoformat() if consent.period_start else None,
        period_end=consent.period_end.isoformat() if consent.period_end else None,
        recorded=consent.recorded.isoformat(),
    )


def fhir_bundle(consents: Iterable[Consent]) -> ConsentBundlePublic:
    """``consents`` as a FHIR R4 ``Bundle`` (type ``collection``) of ``Consent`` resources."""
    entries = [
        FhirBundleEntryPublic(resource=FhirConsentPublic.model_validate(to_fhir(c)))
        for c in consents
    ]
    return ConsentBundlePublic(
        resourceType="Bundle", type="collection", total=len(entries), entry=entries
    )


def _from_own_shape(body: Mapping[str, Any], owner: str, now: datetime) -> Consent:
    """A version-1 consent from our own JSON shape (the agency is the caller's)."""
    try:
        recipients = tuple(
            _recipient(r, f"recipients[{i}]") for i, r in enumerate(body["recipients"])
        )
        return Consent(
            consent_id=str(body.get("consent_id") or uuid.uuid4().hex),
            version=1,
            status=str(body.get("status", "active")),
            owner=owner,
            record_id=str(body["record_id"]),
            grantor=str(body["grantor"]),
            recipients=recipients,
            categories=frozenset(body["categories"]),
            purposes=frozenset(body["purposes"]),
            period_start=_instant(body.get("period_start"), "period_start"),
            period_end=_instant(body.get("period_end"), "period_end"),
            recorded=now,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConsentError(f"{exc.args[0] if exc.args else 'body'}: required") from None


def _recipient(item: object, field: str) -> Recipient:
    if not isinstance(item, Mapping):
        raise ConsentFormatError(field, "required (an object)")
    agency, role = item.get("agency"), item.get("role")
    for name, value in (("agency", agency), ("role", role)):
        if value is not None and not isinstance(value, str):
            raise ConsentFormatError(f"{field}.{name}", "must be text")
    return Recipient(agency=agency, role=role)


def _instant(value: object, field: str) -> datetime | None:
    """An ISO-8601 date-time with an offset, converted to UTC (``None`` if absent)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ConsentFormatError(field, "not an ISO-8601 date-time") from None
    return in_utc(moment, field)


def _check_editor(user: Principal, owner: str) -> None:
    if user.role not in EDITOR_ROLES or user.agency != owner:
        raise PermissionDenied("only the consenting agency's stewards and privacy officers")


def _store(
    session: Session, user: Principal, context: RequestContext, consent: Consent, action: str
) -> Consent:
    validate_consent(consent)
    taken = session.exec(
        select(ConsentRow.id).where(
            ConsentRow.owner == consent.owner,
            ConsentRow.consent_id == consent.consent_id,
            ConsentRow.version == consent.version,
        )
    ).first()
    if taken is not None:
        raise Conflict("this consent version already exists")
    session.add(_to_row(consent, user.user_id))
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request stored the same version first
        raise Conflict("this consent version already exists") from exc
    record(
        session,
        EventKind.CONSENT_CHANGE,
        actor=user,
        context=context,
        agency=consent.owner,
        details={
            "action": action,
            "consent_id": consent.consent_id,
            "version": consent.version,
            "status": consent.status,
        },
    )
    return consent


def create_consent(
    session: Session, user: Principal, context: RequestContext, body: Mapping[str, Any]
) -> Consent:
    """Store a new consent given as FHIR R4 Consent JSON or our own shape.

    Its id need only be new within the caller's agency; ``recorded`` is now.
    """
    received = utcnow()
    if body.get("resourceType") == "Consent":
        consent = replace(from_fhir(dict(body)), recorded=received)
    else:
        consent = _from_own_shape(body, user.agency, received)
    _check_editor(user, consent.owner)
    if _versions(session, consent.owner, consent.consent_id):
        raise Conflict("a consent with this id exists; revoke it or use a new id")
    return _store(session, user, context, consent, "create")


def revoke_consent(
    session: Session, user: Principal, context: RequestContext, consent_id: str
) -> Consent:
    """A new, ``inactive`` version of the caller's agency's consent (effective on the next request).

    Another agency's consent of this id is, to the caller, no such consent (404).
    """
    _check_editor(user, user.agency)
    versions = _versions(session, user.agency, consent_id)
    if not versions:
        raise NotFound("no such consent")
    latest = latest_versions(versions)[0]
    if latest.status == "inactive":
        raise Conflict("this consent is already revoked")
    return _store(session, user, context, revoke(latest, utcnow()), "revoke")


def _versions(session: Session, owner: str | None, consent_id: str) -> list[Consent]:
    """Every version of ``owner``'s consent ``consent_id`` (``None``: of every agency's)."""
    if CONSENT_ID.fullmatch(consent_id) is None:
        return []  # no consent has such an id; and PostgreSQL refuses a NUL in a query
    query = select(ConsentRow).where(ConsentRow.consent_id == consent_id)
    if owner is not None:
        query = query.where(ConsentRow.owner == owner)
    return [_from_row(row) for row in session.exec(query).all()]


def consents_of_records(session: Session, records: Iterable[tuple[str, str]]) -> list[Consent]:
    """Every version of the consents given through any of ``records`` (agency, record id)."""
    keys = sorted(set(records))
    if not keys:
        return []
    rows = session.connection().execute(_OF_RECORDS, {"records": keys})
    return [_from_row(row) for row in rows]


def list_consents(
    session: Session,
    user: Principal,
    *,
    subject_id: str | None = None,
    consent_id: str | None = None,
    history: bool = False,
) -> list[Consent]:
    """Consents of a subject's member records, or all versions of one consent.

    Non-auditors see only their own agency's consents.
    """
    if consent_id is not None:
        owner = None if user.role == Role.AUDITOR else user.agency
        found = _versions(session, owner, consent_id)
    else:
        found = consents_of_records(session, _member_records(session, subject_id or ""))
        found = found if history else list(latest_versions(found))
    if user.role != Role.AUDITOR:
        found = [c for c in found if c.owner == user.agency]
    return sorted(found, key=lambda c: (c.consent_id, c.owner, c.version))


def _member_records(session: Session, subject_id: str) -> list[tuple[str, str]]:
    """(agency, record id) of the subject's current records; :class:`NotFound` if none."""
    members: Sequence[tuple[str, str]] = []
    if "\x00" not in subject_id:  # in no subject id, and PostgreSQL refuses it in a query
        members = session.exec(
            select(StoredRecord.agency, StoredRecord.record_id).where(
                StoredRecord.subject_id == subject_id, col(StoredRecord.retracted).is_(False)
            )
        ).all()
    if not members:
        raise NotFound("no such subject")
    return [(agency, record_id) for agency, record_id in members]


def export_consents(session: Session, user: Principal, agency: str) -> ConsentBundlePublic:
    """An agency's consents (every version) as a FHIR R4 ``Bundle`` of ``Consent``."""
    if user.role != Role.AUDITOR and user.agency != agency:
        raise PermissionDenied("only your own agency's consents")
    rows = session.exec(
        select(ConsentRow)
        .where(ConsentRow.owner == agency)
        .order_by(col(ConsentRow.consent_id), col(ConsentRow.version))
    ).all()
    return fhir_bundle(_from_row(row) for row in rows)


def import_consents(
    session: Session, user: Principal, context: RequestContext, body: Mapping[str, Any]
) -> list[Consent]:
    """Store FHIR Consent resources (a ``Bundle`` or one resource) as given, versions included.

    The whole import is refused if any resource is invalid, another agency's, or
    a version already stored. Every version is recorded at the same receipt
    time (so between two decisions of one import, a refusal wins); the
    documents' own ``meta.lastUpdated`` is checked but not kept.
    """
    received = utcnow()
    stored = []
    for i, resource in enumerate(_resources(body)):
        try:
            consent = replace(from_fhir(resource), recorded=received)
        except ConsentFormatError as exc:
            raise ConsentFormatError(f"entry[{i}].{exc.field}", exc.problem) from None
        _check_editor(user, consent.owner)
        stored.append(_store(session, user, context, consent, "import"))
    return stored


def _resources(body: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    """The resources of a ``Bundle`` (``entry[].resource``), or ``body`` itself."""
    if body.get("resourceType") != "Bundle":
        return [body]
    entries = body.get("entry", [])
    if not isinstance(entries, list):
        raise ConsentFormatError("entry", "must be an array")
    resources = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            raise ConsentFormatError(f"entry[{i}].resource", "required (an object)")
        resources.append(resource)
    return resources
