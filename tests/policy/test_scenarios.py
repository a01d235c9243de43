"""The issue's scenarios against the default demo policy, table-driven, through the view."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from policy.consent import Consent, Recipient, Requester, revoke
from policy.enforcer import PolicyEngine
from policy.view import PART2_REDISCLOSURE_NOTICE, subject_view
from tests.policy.conftest import NOW

# What each demo agency holds for the subject (fixtures/demo/hub.toml context columns).
HELD = {
    "police_cad": ["safety_flags", "communication_needs"],
    "behavioral_health": ["behavioral_health", "communication_needs", "substance_use"],
    "homeless_services": ["housing", "service_connections", "communication_needs"],
    "ems": ["medical", "contact_history", "communication_needs"],
}


def _consent(recipient: Recipient, categories: set[str], purposes: set[str]) -> Consent:
    return Consent(
        consent_id="c1",
        version=1,
        status="active",
        owner="behavioral_health",
        record_id="bh-1",
        grantor="subject",
        recipients=(recipient,),
        categories=frozenset(categories),
        purposes=frozenset(purposes),
        period_start=NOW - timedelta(days=1),
        period_end=NOW + timedelta(days=90),
        recorded=NOW - timedelta(days=1),
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    requester: Requester
    purpose: str
    disclosed: set[tuple[str, str]]
    withheld: dict[tuple[str, str], str]
    consents: tuple[Consent, ...] = ()
    break_glass: bool = False
    held: dict[str, list[str]] = field(default_factory=lambda: HELD)


CLINICIAN = Requester("behavioral_health", "bh_clinician")
OFFICER = Requester("police_cad", "police_officer")
MEDIC = Requester("ems", "ems_medic")
CASE_MANAGER = Requester("homeless_services", "case_manager")

SCENARIOS = [
    Scenario(
        "clinician with consent sees behavioral health but not substance use",
        CLINICIAN,
        "crisis_response",
        consents=(
            _consent(Recipient(role="bh_clinician"), {"behavioral_health"}, {"crisis_response"}),
        ),
        held={"behavioral_health": HELD["behavioral_health"]},
        disclosed={
            ("behavioral_health", "behavioral_health"),
            ("behavioral_health", "communication_needs"),
        },
        withheld={},  # substance use: no consent for it, so concealed, not listed
    ),
    Scenario(
        "other-agency officer sees safety flags and communication needs only",
        OFFICER,
        "crisis_response",
        disclosed={
            ("police_cad", "safety_flags"),
            ("police_cad", "communication_needs"),
            ("behavioral_health", "communication_needs"),
            ("homeless_services", "communication_needs"),
        },
        withheld={
            ("behavioral_health", "behavioral_health"): "default_deny",
            ("homeless_services", "housing"): "default_deny",
            ("homeless_services", "service_connections"): "default_deny",
        },  # EMS shares nothing with police: absent, not listed as withheld
    ),
    Scenario(
        "officer on a public-safety call meets the program guard rail",
        OFFICER,
        "public_safety",
        held={"behavioral_health": HELD["behavioral_health"]},
        disclosed={("behavioral_health", "communication_needs")},
        withheld={("behavioral_health", "behavioral_health"): "denied_by_rule"},
    ),
    Scenario(
        "EMS break-glass sees what the break-glass rule allows",
        MEDIC,
        "emergency",
        break_glass=True,
        disclosed={
            ("police_cad", "safety_flags"),
            ("police_cad", "communication_needs"),
            ("behavioral_health", "behavioral_health"),
            ("behavioral_health", "substance_use"),
            ("behavioral_health", "communication_needs"),
            ("homeless_services", "communication_needs"),
            ("ems", "medical"),
            ("ems", "contact_history"),
            ("ems", "communication_needs"),
        },
        withheld={
            ("homeless_services", "housing"): "default_deny",
            ("homeless_services", "service_connections"): "default_deny",
        },
    ),
    Scenario(
        "EMS without break-glass is told it is available, substance use stays concealed",
        MEDIC,
        "crisis_response",
        held={"behavioral_health": HELD["behavioral_health"]},
        disclosed={("behavioral_health", "communication_needs")},
        withheld={("behavioral_health", "behavioral_health"): "consent_required"},
    ),
    Scenario(
        "no sharing opt-in: nothing from EMS reaches the shelter network",
        CASE_MANAGER,
        "care_coordination",
        held={"ems": HELD["ems"]},
        disclosed=set(),
        withheld={},  # not even that the subject has an EMS record
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(engine: PolicyEngine, scenario: Scenario) -> None:
    view = subject_view(
        engine,
        scenario.requester,
        scenario.purpose,
        scenario.held,
        scenario.consents,
        NOW,
        break_glass=scenario.break_glass,
    )
    assert view.disclosed == scenario.disclosed
    listed = {(a.owner, w.category): w.reason for a in view.agencies for w in a.withheld}
    assert listed == scenario.withheld
    assert {a.owner for a in view.agencies} == {owner for owner, _ in scenario.disclosed}


def test_disclosed_substance_use_carries_the_part2_notice(engine: PolicyEngine) -> None:
    consent = _consent(Recipient(role="bh_clinician"), {"substance_use"}, {"treatment"})
    view = subject_view(
        engine, CLINICIAN, "treatment", {"behavioral_health": ["substance_use"]}, [consent], NOW
    )
    (agency,) = view.agencies
    (disclosed,) = agency.disclosed
    assert disclosed.category == "substance_use"
    assert disclosed.redisclosure_notice
    assert view.notices == (PART2_REDISCLOSURE_NOTICE,)
    assert "42 CFR part 2" in PART2_REDISCLOSURE_NOTICE


def test_view_without_part2_data_carries_no_notice(engine: PolicyEngine) -> None:
    view = subject_view(engine, OFFICER, "crisis_response", HELD, [], NOW)
    assert view.notices == ()


def test_revoked_consent_takes_effect_on_the_next_request(engine: PolicyEngine) -> None:
    consent = _consent(
        Recipient(agency="homeless_services"), {"behavioral_health"}, {"care_coordination"}
    )
    # Communication needs go to every responder, so the agency stays in the view
    # and the revoked category is listed with its reason.
    held = {"behavioral_health": ["behavioral_health", "communication_needs"]}
    before = subject_view(engine, CASE_MANAGER, "care_coordination", held, [consent], NOW)
    assert ("behavioral_health", "behavioral_health") in before.disclosed

    revoked = revoke(consent, NOW + timedelta(minutes=1))
    later = NOW + timedelta(minutes=2)
    after = subject_view(engine, CASE_MANAGER, "care_coordination", held, [consent, revoked], later)
    assert after.disclosed == {("behavioral_health", "communication_needs")}
    (agency,) = after.agencies
    assert [(w.category, w.reason) for w in agency.withheld] == [
        ("behavioral_health", "consent_revoked")
    ]
