"""Consent state from the registry's versions, and FHIR R4 Consent import/export."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from policy.consent import (
    Recipient,
    Requester,
    consent_state,
    consents_for_records,
    latest_versions,
    revoke,
    validate_consent,
)
from policy.consent_fhir import from_fhir, to_fhir
from policy.errors import ConsentError, ConsentFormatError
from tests.policy.conftest import NOW

BH = "behavioral_health"
CLINICIAN = Requester(BH, "bh_clinician")
DAY = timedelta(days=1)


def state(
    consents, requester=CLINICIAN, category="behavioral_health", purpose="treatment", now=NOW
):
    return consent_state(consents, BH, requester, category, purpose, now)


def test_no_consent_on_file_is_none() -> None:
    assert state([]) == "none"


def test_an_active_consent_in_its_period_is_granted(make_consent) -> None:
    assert state([make_consent()]) == "granted"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"period_end": NOW - DAY}, "expired"),
        ({"period_end": NOW}, "expired"),
        ({"period_start": NOW + DAY}, "none"),
        ({"period_start": None, "period_end": None}, "granted"),
        ({"status": "rejected"}, "revoked"),
        ({"status": "inactive"}, "revoked"),
        ({"status": "draft"}, "none"),
        ({"status": "proposed"}, "none"),
        ({"status": "entered-in-error"}, "none"),
        ({"categories": frozenset({"substance_use"})}, "none"),
        ({"purposes": frozenset({"care_coordination"})}, "none"),
        ({"owner": "ems"}, "none"),
        ({"recipients": (Recipient(agency="ems"),)}, "none"),
        ({"recipients": (Recipient(role="bh_clinician"),)}, "granted"),
        ({"recipients": (Recipient(agency=BH, role="case_manager"),)}, "none"),
        ({"recipients": (Recipient(agency=BH, role="bh_clinician"),)}, "granted"),
    ],
)
def test_consent_state_table(make_consent, fields: dict, expected: str) -> None:
    assert state([make_consent(**fields)]) == expected


def test_revocation_is_a_new_version_and_wins(make_consent) -> None:
    consent = make_consent()
    revoked = revoke(consent, NOW - DAY)
    assert (revoked.version, revoked.status, revoked.consent_id) == (2, "inactive", "c1")
    assert state([consent, revoked]) == "revoked"
    assert state([revoked, consent]) == "revoked"  # order of arrival does not matter
    assert latest_versions([consent, revoked]) == (revoked,)


def test_a_later_consent_overrides_an_earlier_refusal(make_consent) -> None:
    refusal = make_consent(consent_id="c1", status="rejected", recorded=NOW - 10 * DAY)
    later = make_consent(consent_id="c2", recorded=NOW - DAY)
    assert state([refusal, later]) == "granted"


def test_a_later_refusal_overrides_an_earlier_consent(make_consent) -> None:
    earlier = make_consent(consent_id="c1", recorded=NOW - 10 * DAY)
    refusal = make_consent(consent_id="c2", status="rejected", recorded=NOW - DAY)
    assert state([earlier, refusal]) == "revoked"


def test_an_erroneous_latest_version_voids_the_consent(make_consent) -> None:
    consent = make_consent()
    voided = make_consent(version=2, status="entered-in-error", recorded=NOW - DAY)
    assert state([consent, voided]) == "none"


def test_a_still_valid_consent_beats_an_expired_one(make_consent) -> None:
    old = make_consent(consent_id="c1", recorded=NOW - 5 * DAY)
    expired = make_consent(consent_id="c2", period_end=NOW - DAY, recorded=NOW - 2 * DAY)
    assert state([old, expired]) == "granted"


def test_consent_needs_an_aware_clock(make_consent) -> None:
    with pytest.raises(ConsentError):
        state([make_consent()], now=datetime(2025, 3, 1))


def test_consents_follow_records(make_consent) -> None:
    mine = make_consent(record_id="bh-1")
    other = make_consent(consent_id="c2", record_id="bh-2")
    assert consents_for_records([mine, other], [(BH, "bh-2"), ("ems", "bh-1")]) == (other,)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"consent_id": "no spaces allowed"}, "consent_id"),
        ({"version": 0}, "version"),
        ({"status": "revoked"}, "status"),
        ({"recipients": ()}, "recipients"),
        ({"recipients": (Recipient(),)}, "recipients[0]"),
        ({"recipients": (Recipient(role="sheriff"),)}, "recipients[0].role"),
        ({"categories": frozenset()}, "categories"),
        ({"categories": frozenset({"secrets"})}, "categories"),
        ({"purposes": frozenset({"research"})}, "purposes"),
        ({"period_end": NOW - 60 * DAY}, "period_end"),
        ({"recorded": datetime(2025, 1, 1)}, "recorded"),
    ],
)
def test_inconsistent_consents_are_refused(make_consent, fields: dict, field: str) -> None:
    with pytest.raises(ConsentError) as caught:
        validate_consent(make_consent(**fields))
    assert str(caught.value).startswith(f"{field}:")


# --- FHIR R4 --------------------------------------------------------------------------


def test_fhir_round_trip(make_consent) -> None:
    consent = make_consent(
        version=3,
        recipients=(
            Recipient(agency="ems"),
            Recipient(role="bh_clinician"),
            Recipient("ems", "ems_medic"),
        ),
        categories=frozenset({"behavioral_health", "substance_use"}),
    )
    document = json.loads(json.dumps(to_fhir(consent)))
    assert document["resourceType"] == "Consent"
    assert document["meta"]["versionId"] == "3"
    assert document["provision"]["type"] == "permit"
    assert from_fhir(document) == consent


def test_fhir_export_names_the_subject_only_through_the_agency_record(make_consent) -> None:
    document = to_fhir(make_consent())
    assert document["patient"] == {
        "identifier": {"system": "urn:crosswalk:agency:behavioral_health:record", "value": "bh-1"}
    }


def test_fhir_date_only_period_is_midnight_utc(make_consent) -> None:
    document = to_fhir(make_consent())
    document["provision"]["period"] = {"start": "2025-01-01", "end": "2026-01-01"}
    consent = from_fhir(document)
    assert consent.period_start == datetime(2025, 1, 1, tzinfo=UTC)


def _broken(document: dict, path: str, value: object) -> dict:
    broken = copy.deepcopy(document)
    *parents, last = path.split(".")
    node = broken
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("resourceType", "Patient", "resourceType"),
        ("id", KeyError, "id"),
        ("id", "has spaces", "id"),
        ("meta", KeyError, "meta"),
        ("meta.versionId", "two", "meta.versionId"),
        ("status", "revoked", "status"),
        ("patient.identifier.system", "http://hospital.example/mrn", "patient.identifier.system"),
        ("patient.identifier.value", "", "patient.identifier.value"),
        ("organization.0.reference", "Organization/ems", "organization[0].reference"),
        ("performer", [], "performer"),
        ("provision.type", "deny", "provision.type"),
        ("provision.actor", [], "provision.actor"),
        ("provision.actor.0.reference", {}, "provision.actor[0].reference"),
        ("provision.actor.0.reference", {"reference": "Patient/1"}, "provision.actor[0].reference"),
        (
            "provision.purpose.0.system",
            "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            "provision.purpose[0].system",
        ),
        ("provision.purpose.0.code", "research", "provision.purpose"),
        ("provision.code.0.coding.0.code", "secrets", "provision.code"),
        ("provision.period.start", "yesterday", "provision.period.start"),
        ("provision.period.end", "2025-03-01T00:00:00", "provision.period.end"),
        ("meta.lastUpdated", "2025-02-01T00:00:00", "meta.lastUpdated"),
    ],
)
def test_fhir_import_errors_name_the_field(
    make_consent, path: str, value: object, field: str
) -> None:
    document = to_fhir(make_consent())
    with pytest.raises(ConsentFormatError) as caught:
        from_fhir(_broken(document, path, value))
    assert caught.value.field == field
    assert "bh-1" not in str(caught.value)


def test_fhir_import_of_a_non_object_is_refused() -> None:
    with pytest.raises(ConsentFormatError) as caught:
        from_fhir([])
    assert caught.value.field == "Consent"
