"""FHIR R4 Consent JSON import and export for :class:`policy.consent.Consent`.

Mapping (R4 element → Crosswalk field):

- ``id`` → ``consent_id`` (unique within the agency); ``meta.versionId`` →
  ``version`` (ASCII digits, 1 to one below :data:`~policy.consent.MAX_VERSION`);
  ``meta.lastUpdated`` (or ``dateTime``) → ``recorded``, which the registry then
  replaces by its own receipt time (in FHIR the server sets ``meta.lastUpdated``);
  ``status`` → ``status``. Every time is converted to UTC.
- ``patient.identifier`` (system ``urn:crosswalk:agency:<owner>:record``) →
  ``owner`` and ``record_id``: the subject through the agency's own record id
- ``organization[0]`` (``Organization/<owner>``): the custodian, must agree
- ``performer[0].display`` → ``grantor``
- ``provision.type`` must be ``permit``; ``provision.period`` → period;
  ``provision.actor[]`` (role IRCP, information recipient) → recipients: the
  agency as ``reference: Organization/<agency>``, a role as ``reference.identifier``
  in system ``urn:crosswalk:role``; ``provision.purpose[]`` → purposes;
  ``provision.code[]`` → data categories (system ``urn:crosswalk:category``)

:func:`from_fhir` raises :class:`~policy.errors.ConsentFormatError` whose
``field`` is the path of the first invalid element (``provision.actor[1].reference``);
messages never repeat the values, which may be record ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from policy.consent import MAX_VERSION, Consent, Recipient, in_utc, validate_consent
from policy.errors import ConsentError, ConsentFormatError

__all__ = ["CATEGORY_SYSTEM", "PURPOSE_SYSTEM", "ROLE_SYSTEM", "from_fhir", "to_fhir"]

CATEGORY_SYSTEM = "urn:crosswalk:category"
PURPOSE_SYSTEM = "urn:crosswalk:purpose"
ROLE_SYSTEM = "urn:crosswalk:role"
_RECORD_SYSTEM = "urn:crosswalk:agency:{owner}:record"
_SCOPE = {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
_CATEGORY = {"system": "http://loinc.org", "code": "59284-0"}
_POLICY_RULE = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
_IRCP = {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}
_DIGITS = re.compile(r"[0-9]{1,10}")
# One below the registry's highest version, so that a revocation (the next
# version) of any consent given in FHIR always fits.
_MAX_GIVEN_VERSION = MAX_VERSION - 1


def to_fhir(consent: Consent) -> dict[str, Any]:
    """``consent`` as a FHIR R4 Consent resource (a JSON-ready dict)."""
    period: dict[str, str] = {}
    if consent.period_start is not None:
        period["start"] = consent.period_start.isoformat()
    if consent.period_end is not None:
        period["end"] = consent.period_end.isoformat()
    provision: dict[str, Any] = {
        "type": "permit",
        "actor": [_actor(recipient) for recipient in consent.recipients],
        "purpose": [{"system": PURPOSE_SYSTEM, "code": p} for p in sorted(consent.purposes)],
        "code": [
            {"coding": [{"system": CATEGORY_SYSTEM, "code": c}]} for c in sorted(consent.categories)
        ],
    }
    if period:
        provision["period"] = period
    return {
        "resourceType": "Consent",
        "id": consent.consent_id,
        "meta": {"versionId": str(consent.version), "lastUpdated": consent.recorded.isoformat()},
        "status": consent.status,
        "scope": {"coding": [_SCOPE]},
        "category": [{"coding": [_CATEGORY]}],
        "patient": {
            "identifier": {
                "system": _RECORD_SYSTEM.format(owner=consent.owner),
                "value": consent.record_id,
            }
        },
        "dateTime": consent.recorded.isoformat(),
        "performer": [{"display": consent.grantor}],
        "organization": [{"reference": f"Organization/{consent.owner}"}],
        "policyRule": {"coding": [_POLICY_RULE]},
        "provision": provision,
    }


def _actor(recipient: Recipient) -> dict[str, Any]:
    reference: dict[str, Any] = {}
    if recipient.agency is not None:
        reference["reference"] = f"Organization/{recipient.agency}"
    if recipient.role is not None:
        reference["identifier"] = {"system": ROLE_SYSTEM, "value": recipient.role}
    return {"role": {"coding": [_IRCP]}, "reference": reference}


def from_fhir(document: object) -> Consent:
    """A validated :class:`Consent` from a FHIR R4 Consent resource.

    Raises:
        ConsentFormatError: naming the path of the first invalid element.
    """
    doc = _mapping(document, "Consent")
    if doc.get("resourceType") != "Consent":
        raise ConsentFormatError("resourceType", "must be 'Consent'")
    meta = _mapping(doc.get("meta"), "meta")
    owner, record_id = _patient(_mapping(doc.get("patient"), "patient"))
    organizations = _list(doc.get("organization", []), "organization")
    if organizations and _reference(organizations[0], "organization[0]") != owner:
        raise ConsentFormatError("organization[0].reference", "must be the record's agency")
    provision = _mapping(doc.get("provision"), "provision")
    if provision.get("type") != "permit":
        raise ConsentFormatError("provision.type", "only 'permit' provisions are supported")
    period = _mapping(provision.get("period", {}), "provision.period")
    performers = _list(doc.get("performer"), "performer")
    consent = Consent(
        consent_id=_text(doc.get("id"), "id"),
        version=_version(meta.get("versionId")),
        status=_text(doc.get("status"), "status"),
        owner=owner,
        record_id=record_id,
        grantor=_grantor(performers[0]),
        recipients=tuple(
            _recipient(actor, f"provision.actor[{i}]")
            for i, actor in enumerate(_list(provision.get("actor"), "provision.actor"))
        ),
        categories=frozenset(_categories(provision.get("code"))),
        purposes=frozenset(
            _code(coding, PURPOSE_SYSTEM, f"provision.purpose[{i}]")
            for i, coding in enumerate(_list(provision.get("purpose"), "provision.purpose"))
        ),
        period_start=_instant(period.get("start"), "provision.period.start"),
        period_end=_instant(period.get("end"), "provision.period.end"),
        recorded=_recorded(meta, doc),
    )
    try:
        return validate_consent(consent)
    except ConsentError as exc:
        field, _, problem = str(exc).partition(": ")
        raise ConsentFormatError(_FIELD_PATHS.get(field.split("[")[0], field), problem) from None


_FIELD_PATHS = {
    "consent_id": "id",
    "version": "meta.versionId",
    "status": "status",
    "owner": "patient.identifier.system",
    "record_id": "patient.identifier.value",
    "grantor": "performer[0].display",
    "recipients": "provision.actor",
    "categories": "provision.code",
    "purposes": "provision.purpose",
    "period_start": "provision.period.start",
    "period_end": "provision.period.end",
    "recorded": "meta.lastUpdated",
}


def _grantor(performer: object) -> str:
    return _text(_mapping(performer, "performer[0]").get("display"), "performer[0].display")


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConsentFormatError(field, "required (an object)")
    return value


def _list(value: object, field: str) -> Sequence[Any]:
    if not isinstance(value, list) or not value:
        raise ConsentFormatError(field, "required (a non-empty array)")
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConsentFormatError(field, "required (a string)")
    return value


def _version(value: object) -> int:
    # ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        raise ConsentFormatError("meta.versionId", "required (a positive integer as text)")
    version = int(value)
    if not 1 <= version <= _MAX_GIVEN_VERSION:
        raise ConsentFormatError("meta.versionId", f"must be in 1-{_MAX_GIVEN_VERSION}")
    return version


def _patient(patient: Mapping[str, Any]) -> tuple[str, str]:
    identifier = _mapping(patient.get("identifier"), "patient.identifier")
    system = _text(identifier.get("system"), "patient.identifier.system")
    prefix, _, rest = system.partition("urn:crosswalk:agency:")
    owner, _, suffix = rest.partition(":")
    if prefix or suffix != "record" or not owner:
        raise ConsentFormatError("patient.identifier.system", "must be an agency record system")
    return owner, _text(identifier.get("value"), "patient.identifier.value")


def _reference(value: object, field: str) -> str:
    reference = _text(_mapping(value, field).get("reference"), f"{field}.reference")
    kind, _, name = reference.partition("/")
    if kind != "Organization" or not name:
        raise ConsentFormatError(f"{field}.reference", "must be Organization/<agency>")
    return name


def _recipient(actor: object, field: str) -> Recipient:
    reference = _mapping(_mapping(actor, field).get("reference"), f"{field}.reference")
    agency = _reference(reference, f"{field}") if reference.get("reference") is not None else None
    role = None
    if reference.get("identifier") is not None:
        identifier = _mapping(reference["identifier"], f"{field}.reference.identifier")
        role = _code(identifier, ROLE_SYSTEM, f"{field}.reference.identifier", key="value")
    if agency is None and role is None:
        raise ConsentFormatError(f"{field}.reference", "names neither an agency nor a role")
    return Recipient(agency=agency, role=role)


def _code(coding: object, system: str, field: str, key: str = "code") -> str:
    item = _mapping(coding, field)
    if item.get("system") != system:
        raise ConsentFormatError(f"{field}.system", f"must be {system}")
    return _text(item.get(key), f"{field}.{key}")


def _categories(value: object) -> list[str]:
    codes = []
    for i, concept in enumerate(_list(value, "provision.code")):
        field = f"provision.code[{i}]"
        codings = _list(_mapping(concept, field).get("coding"), f"{field}.coding")
        codes.append(_code(codings[0], CATEGORY_SYSTEM, f"{field}.coding[0]"))
    return codes


def _instant(value: object, field: str) -> datetime | None:
    """A FHIR dateTime with a timezone, in UTC; a bare date is midnight UTC. ``None`` if absent."""
    if value is None:
        return None
    text = _text(value, field)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConsentFormatError(field, "not a FHIR dateTime") from None
    return in_utc(moment, field)


def _recorded(meta: Mapping[str, Any], doc: Mapping[str, Any]) -> datetime:
    if "lastUpdated" in meta:
        moment = _instant(meta["lastUpdated"], "meta.lastUpdated")
    else:
        moment = _instant(doc.get("dateTime"), "dateTime")
    if moment is None:
        raise ConsentFormatError("meta.lastUpdated", "required")
    return moment
