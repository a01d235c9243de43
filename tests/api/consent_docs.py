"""FHIR R4 Consent documents for the consent-registry tests.

Built with the domain's own mapping (:func:`policy.consent_fhir.to_fhir`), then
handed to the tests as plain JSON dicts, so that a test can bend any element
(an odd ``versionId``, a period with an offset) before it goes over HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from policy.consent import Consent, Recipient
from policy.consent_fhir import to_fhir

__all__ = ["HOUSING", "bundle", "fhir_consent"]

#: A consent that lets the behavioural-health clinician see a shelter's housing data.
HOUSING: Mapping[str, Any] = {
    "recipients": [{"role": "bh_clinician"}],
    "categories": ["housing"],
    "purposes": ["crisis_response"],
}


def fhir_consent(
    agency: str,
    record_id: str,
    consent_id: str,
    *,
    version: int = 1,
    status: str = "active",
    last_updated: datetime | None = None,
) -> dict[str, Any]:
    """A FHIR Consent of ``agency``'s record with the :data:`HOUSING` provisions."""
    consent = Consent(
        consent_id=consent_id,
        version=version,
        status=status,
        owner=agency,
        record_id=record_id,
        grantor="subject",
        recipients=(Recipient(role="bh_clinician"),),
        categories=frozenset({"housing"}),
        purposes=frozenset({"crisis_response"}),
        period_start=None,
        period_end=None,
        recorded=last_updated or datetime.now(UTC),
    )
    return to_fhir(consent)


def bundle(*resources: Mapping[str, Any]) -> dict[str, Any]:
    """A FHIR ``collection`` Bundle of ``resources``."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": dict(resource)} for resource in resources],
    }
