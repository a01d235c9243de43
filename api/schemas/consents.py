"""``/v1/consents`` responses: consent versions in our own shape, and FHIR R4 Bundles.

Our own shape (:class:`ConsentPublic`) names the consenting agency's record the
consent is given through; FHIR exports and ``format=fhir`` listings are
``Bundle`` resources of ``Consent`` resources as :func:`policy.consent_fhir.to_fhir`
writes them (the mapping is documented there). A :class:`FhirConsentPublic`
types the resource's top level; its nested FHIR elements are plain JSON objects.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "ConsentBundlePublic",
    "ConsentImportPublic",
    "ConsentListPublic",
    "ConsentPublic",
    "FhirBundleEntryPublic",
    "FhirConsentPublic",
    "FhirMetaPublic",
    "RecipientPublic",
]


class RecipientPublic(BaseModel):
    """Who a consent discloses to: an agency, a role, or a role at an agency."""

    agency: str | None = Field(description="The recipient agency; null for any agency.")
    role: str | None = Field(description="The recipient role; null for any role.")


class ConsentPublic(BaseModel):
    """One version of a consent (a revocation is a new, inactive version)."""

    consent_id: str = Field(description="The consent's id, unique within its agency.")
    version: int = Field(description="The version number, from 1.")
    status: str = Field(
        description="A FHIR Consent status: `active`, `inactive` (revoked), `rejected` (refused), "
        "or `draft`, `proposed`, `entered-in-error` (which decide nothing)."
    )
    agency: str = Field(description="The consenting agency, which owns the consent.")
    record_id: str = Field(
        description="The agency's own id of the record the consent is given through."
    )
    grantor: str = Field(description="Who gave the consent, as the agency recorded it.")
    recipients: list[RecipientPublic] = Field(description="Who may receive the data.")
    categories: list[str] = Field(description="Data categories consented to, sorted.")
    purposes: list[str] = Field(description="Purposes of use consented to, sorted.")
    period_start: str | None = Field(
        description="Start of the consent's period (ISO 8601, UTC); null if open."
    )
    period_end: str | None = Field(
        description="End of the consent's period (ISO 8601, UTC); null if open."
    )
    recorded: str = Field(
        description="When the hub received this version (ISO 8601, UTC): "
        "the later of two decisions is the last word."
    )


class ConsentListPublic(BaseModel):
    """Consents, in our own shape, ordered by consent id, agency and version."""

    consents: list[ConsentPublic] = Field(description="The consent versions found.")


class ConsentImportPublic(BaseModel):
    """The versions an import stored (all of them, or none: then the request fails)."""

    imported: int = Field(description="How many consent versions were stored.")
    consents: list[ConsentPublic] = Field(description="The stored versions, in the import's order.")


class FhirMetaPublic(BaseModel):
    """A FHIR resource's ``meta``."""

    versionId: str = Field(description="The consent's version, as text.")
    lastUpdated: str = Field(description="When the hub received the version (ISO 8601, UTC).")


class FhirConsentPublic(BaseModel):
    """A FHIR R4 ``Consent`` resource (see :mod:`policy.consent_fhir` for the mapping)."""

    resourceType: Literal["Consent"] = Field(description="Always `Consent`.")
    id: str = Field(description="The consent's id (unique within the agency).")
    meta: FhirMetaPublic = Field(description="The version and when the hub received it.")
    status: str = Field(description="The FHIR Consent status (as in our own shape).")
    scope: dict[str, Any] = Field(description="CodeableConcept: consentscope `patient-privacy`.")
    category: list[dict[str, Any]] = Field(description="CodeableConcepts: LOINC `59284-0`.")
    patient: dict[str, Any] = Field(
        description="Reference whose `identifier` (system `urn:crosswalk:agency:<agency>:record`) "
        "is the record the consent is given through."
    )
    dateTime: str = Field(description="When the hub received the version (ISO 8601, UTC).")
    performer: list[dict[str, Any]] = Field(
        description="References; the first's `display` is the grantor."
    )
    organization: list[dict[str, Any]] = Field(
        description="References: `Organization/<agency>`, the consenting agency."
    )
    policyRule: dict[str, Any] = Field(description="CodeableConcept: v3-ActCode `OPTIN`.")
    provision: dict[str, Any] = Field(
        description="The `permit` provision: `actor` (recipients), `purpose`, `code` "
        "(categories, system `urn:crosswalk:category`) and, if bounded, `period`."
    )


class FhirBundleEntryPublic(BaseModel):
    """One entry of a FHIR ``Bundle``."""

    resource: FhirConsentPublic = Field(description="A Consent resource.")


class ConsentBundlePublic(BaseModel):
    """A FHIR R4 ``Bundle`` (type ``collection``) of Consent resources."""

    resourceType: Literal["Bundle"] = Field(description="Always `Bundle`.")
    type: Literal["collection"] = Field(description="Always `collection`.")
    total: int = Field(description="How many entries the bundle holds.")
    entry: list[FhirBundleEntryPublic] = Field(description="The Consent resources.")
