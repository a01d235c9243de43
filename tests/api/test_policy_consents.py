"""The consent registry through HTTP: who may write and read, FHIR R4 in and out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from linkage.encode.keys import LinkageSecret
from tests.api.hub import Hub
from tests.api.policy_setup import PolicyHub, build_policy_hub, disclosed

HOUSING = {
    "recipients": [{"role": "bh_clinician"}],
    "categories": ["housing"],
    "purposes": ["crisis_response"],
}


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject at four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


def test_only_the_consenting_agency_writes_and_auditors_read_everything(ph: PolicyHub) -> None:
    body = {"record_id": ph.record_ids["homeless_services"], "grantor": "subject", **HOUSING}
    client = ph.hub.client
    assert (
        client.post("/v1/consents", json=body, headers=ph.hub.auth("clinician")).status_code == 403
    )
    created = ph.consent("homeless_services", **HOUSING)
    assert (created["agency"], created["version"], created["status"]) == (
        "homeless_services", 1, "active",
    )  # fmt: skip
    revoke = client.post(
        f"/v1/consents/{created['consent_id']}/revoke", headers=ph.hub.auth("st-behavioral_health")
    )
    # Refused, as for an id that does not exist (a 403 told outsiders the id was taken).
    assert (revoke.status_code, revoke.json()) == (404, {"detail": "no such consent"})

    as_auditor = client.get(
        f"/v1/consents?subject_id={ph.subject_id}", headers=ph.hub.auth("auditor")
    ).json()["consents"]
    as_other = client.get(
        f"/v1/consents?subject_id={ph.subject_id}", headers=ph.hub.auth("st-police_cad")
    ).json()["consents"]
    assert [c["consent_id"] for c in as_auditor] == [created["consent_id"]]
    assert as_other == []


def test_a_typo_in_a_consent_is_a_422_naming_the_field(ph: PolicyHub) -> None:
    body = {"record_id": "CAD-0000003", "grantor": "subject", **HOUSING, "purposes": ["fun"]}
    response = ph.hub.client.post(
        "/v1/consents", json=body, headers=ph.hub.auth("st-homeless_services")
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("purposes")


def test_fhir_export_and_import_round_trip_and_the_imported_consent_applies(
    ph: PolicyHub,
) -> None:
    created = ph.consent("homeless_services", **HOUSING)
    ph.hub.client.post(
        f"/v1/consents/{created['consent_id']}/revoke", headers=ph.hub.auth("st-homeless_services")
    )
    bundle = ph.hub.client.get("/v1/consents/export", headers=ph.hub.auth("st-homeless_services"))
    assert bundle.status_code == 200
    resources = [e["resource"] for e in bundle.json()["entry"]]
    assert [(r["resourceType"], r["meta"]["versionId"], r["status"]) for r in resources] == [
        ("Consent", "1", "active"),
        ("Consent", "2", "inactive"),
    ]
    assert "housing" not in disclosed(ph.view("clinician", "crisis_response")).get(
        "homeless_services", set()
    )

    # Recorded after the revocation: the subject's latest word is a new consent.
    now = datetime.now(UTC).isoformat()
    fresh = {**resources[0], "id": "imported-1", "meta": {"versionId": "1", "lastUpdated": now}}
    imported = ph.hub.client.post(
        "/v1/consents/import",
        json={"resourceType": "Bundle", "type": "collection", "entry": [{"resource": fresh}]},
        headers=ph.hub.auth("st-homeless_services"),
    )
    assert imported.status_code == 201, imported.text
    assert disclosed(ph.view("clinician", "crisis_response"))["homeless_services"] == {"housing"}
    duplicate = ph.hub.client.post(
        "/v1/consents/import", json=fresh, headers=ph.hub.auth("st-homeless_services")
    )
    assert duplicate.status_code == 409
    broken = {**fresh, "id": "imported-2", "provision": {**fresh["provision"], "type": "deny"}}
    refused = ph.hub.client.post(
        "/v1/consents/import", json=broken, headers=ph.hub.auth("st-homeless_services")
    )
    assert refused.status_code == 422
    assert "provision.type" in refused.json()["detail"]
