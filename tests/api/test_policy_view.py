"""The subject view under the default demo policy, end to end through HTTP.

Table-driven scenarios from issue 4, then break-glass, revocation on the next
request, and the privacy of audit events and logs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api.hub.audit.tables import AuditEvent
from linkage.encode.keys import LinkageSecret
from policy.view import PART2_REDISCLOSURE_NOTICE
from tests.api.hub import Hub, encode_rows, read_rows
from tests.api.policy_setup import (
    MARKERS,
    PolicyHub,
    agency_view,
    build_policy_hub,
    disclosed,
    withheld,
)


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject at four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


SCENARIOS: list[tuple[str, str, str, dict[str, Any] | None, dict[str, set[str]], set[str]]] = [
    # name, user, purpose, consent (agency, fields) or None, disclosed with data, absent
    (
        "clinician_with_consent_sees_behavioral_health_not_substance_use",
        "clinician",
        "crisis_response",
        {"agency": "homeless_services", "recipients": [{"role": "bh_clinician"}],
         "categories": ["housing"], "purposes": ["crisis_response"]},
        {
            "behavioral_health": {"behavioral_health", "communication_needs"},
            "police_cad": {"safety_flags", "communication_needs"},
            "homeless_services": {"housing"},
        },
        {"substance_use"},
    ),
    (
        "other_agency_officer_sees_safety_flags_and_communication_needs_only",
        "officer",
        "public_safety",
        None,
        {
            "police_cad": {"safety_flags", "communication_needs"},
            "behavioral_health": {"communication_needs"},
        },
        {"substance_use"},
    ),
    (
        "medic_without_break_glass_sees_communication_needs_and_own_medical",
        "medic",
        "emergency",
        None,
        {
            "police_cad": {"safety_flags", "communication_needs"},
            "behavioral_health": {"communication_needs"},
            "ems": {"medical"},
        },
        {"substance_use"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("user", "purpose", "consent", "expected", "absent"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_scenario(
    ph: PolicyHub,
    user: str,
    purpose: str,
    consent: dict[str, Any] | None,
    expected: dict[str, set[str]],
    absent: set[str],
) -> None:
    if consent is not None:
        fields = dict(consent)  # the table is shared by both backends' runs
        ph.consent(fields.pop("agency"), **fields)

    view = ph.view(user, purpose)

    assert disclosed(view) == expected
    for agency in view["agencies"]:
        listed = set(agency["categories"]) | {w["category"] for w in agency["withheld"]}
        assert not listed & absent, agency
    assert view["notices"] == []


def test_allowed_values_are_returned_decrypted(ph: PolicyHub) -> None:
    view = ph.view("officer", "public_safety")

    police = agency_view(view, "police_cad")
    assert police["categories"]["safety_flags"] == [{"weapons": "zq-weapons-knife"}]
    assert "behavioral_health" in withheld(view, "behavioral_health")
    assert withheld(view, "behavioral_health")["behavioral_health"] == "denied_by_rule"


def test_no_sharing_opt_in_means_nothing_from_that_agency(ph: PolicyHub) -> None:
    # EMS shares only with behavioral health: the shelter's case manager gets nothing,
    # not even that the subject has an EMS record.
    response = ph.hub.client.get(
        f"/v1/subjects/{ph.subject_id}?purpose=care_coordination", headers=ph.hub.auth("casemgr")
    )
    assert response.status_code == 200, response.text
    view = response.json()

    assert agency_view(view, "ems") == {}
    assert '"ems"' not in response.text
    # Agencies that do disclose something still list what they withhold, with reasons.
    assert "communication_needs" in agency_view(view, "behavioral_health")["categories"]
    assert withheld(view, "behavioral_health")["behavioral_health"] == "consent_required"


def test_an_agency_that_discloses_nothing_to_the_user_is_not_named(ph: PolicyHub) -> None:
    # Behavioral health keeps only its Part 2 rule: nothing of it reaches an officer.
    assert "behavioral_health" in {
        a["agency"] for a in ph.view("officer", "crisis_response")["agencies"]
    }
    rule = {"role": "bh_clinician", "category": "substance_use", "purpose": "treatment",
            "condition": "consent_granted", "effect": "allow"}  # fmt: skip
    draft = ph.hub.client.post(
        "/v1/policies/drafts",
        json={"scope": "behavioral_health", "rules": [rule], "shares_with": ["police_cad"]},
        headers=ph.hub.auth("po-bh"),
    )
    assert draft.status_code == 201, draft.text
    published = ph.hub.client.post(
        f"/v1/policies/versions/{draft.json()['id']}/publish", headers=ph.hub.auth("po-bh")
    )
    assert published.status_code == 200, published.text

    view = ph.view("officer", "crisis_response")

    assert "behavioral_health" not in {a["agency"] for a in view["agencies"]}
    assert "police_cad" in {a["agency"] for a in view["agencies"]}


def test_a_stored_part2_allow_without_consent_releases_nothing(ph: PolicyHub) -> None:
    """A rule that reached storage past validation: the whole policy fails closed."""
    versions = ph.hub.client.get("/v1/policies", headers=ph.hub.auth("auditor")).json()["versions"]
    with ph.hub.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO policy_rule (version_id, scope, role, category, purpose, "
                 "condition, effect) VALUES (:v, 'behavioral_health', 'bh_clinician', "
                 "'substance_use', '*', 'always', 'allow')"),
            {"v": versions["behavioral_health"]},
        )  # fmt: skip
    ph.hub.services.policy.load()

    response = ph.hub.client.get(
        f"/v1/subjects/{ph.subject_id}?purpose=treatment", headers=ph.hub.auth("clinician")
    )

    assert response.status_code == 200, response.text
    assert "zq-substance-note" not in response.text
    assert "substance_use" not in response.text
    assert response.json()["agencies"] == []


def test_revoked_consent_takes_effect_on_the_next_request(ph: PolicyHub) -> None:
    consent = ph.consent(
        "behavioral_health",
        recipients=[{"agency": "homeless_services", "role": "case_manager"}],
        categories=["behavioral_health"],
        purposes=["care_coordination"],
    )
    before = ph.view("casemgr", "care_coordination")
    assert "behavioral_health" in disclosed(before)["behavioral_health"]

    revoked = ph.hub.client.post(
        f"/v1/consents/{consent['consent_id']}/revoke", headers=ph.hub.auth("po-bh")
    )
    assert revoked.status_code == 201, revoked.text
    assert (revoked.json()["version"], revoked.json()["status"]) == (2, "inactive")

    after = ph.view("casemgr", "care_coordination")
    assert "behavioral_health" not in disclosed(after).get("behavioral_health", set())
    assert withheld(after, "behavioral_health")["behavioral_health"] == "consent_revoked"


def test_ems_break_glass_sees_what_the_rule_allows_with_the_part2_notice(ph: PolicyHub) -> None:
    before = ph.view("medic", "emergency")
    assert withheld(before, "behavioral_health")["behavioral_health"] == "break_glass_available"

    grant = ph.hub.client.post(
        f"/v1/subjects/{ph.subject_id}/break-glass",
        json={"purpose": "emergency", "reason": "unresponsive patient, crisis history suspected"},
        headers=ph.hub.auth("medic"),
    )
    assert grant.status_code == 201, grant.text
    assert grant.json()["categories"] == {
        "behavioral_health": ["behavioral_health", "substance_use"]
    }

    after = ph.view("medic", "emergency")
    assert after["break_glass"] is True
    bh = agency_view(after, "behavioral_health")
    assert bh["categories"]["substance_use"] == [{"substance_use_note": "zq-substance-note"}]
    assert bh["notices"] == ["substance_use"]
    assert after["notices"] == [PART2_REDISCLOSURE_NOTICE]
    # The grant is for the emergency only, and for this medic only.
    assert ph.view("medic", "treatment")["break_glass"] is False

    queue = ph.hub.client.get("/v1/audit/break-glass", headers=ph.hub.auth("auditor"))
    assert queue.status_code == 200, queue.text
    kinds = {item["kind"] for item in queue.json()["events"]}
    assert {"subject.break_glass", "subject.view"} <= kinds


def test_break_glass_is_refused_where_no_rule_allows_it(ph: PolicyHub) -> None:
    refused = ph.hub.client.post(
        f"/v1/subjects/{ph.subject_id}/break-glass",
        json={"purpose": "emergency", "reason": "officer wants the crisis plan"},
        headers=ph.hub.auth("officer"),
    )
    assert refused.status_code == 403
    assert "no rule allows break-glass" in refused.json()["detail"]
    wrong_purpose = ph.hub.client.post(
        f"/v1/subjects/{ph.subject_id}/break-glass",
        json={"purpose": "treatment", "reason": "no emergency"},
        headers=ph.hub.auth("medic"),
    )
    assert wrong_purpose.status_code == 422


def test_each_view_writes_one_event_per_agency_with_rules_and_version(ph: PolicyHub) -> None:
    view = ph.view("officer", "public_safety")

    with ph.hub.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT agency, categories, withheld, decision, rule, policy_version, details "
                 "FROM audit_event WHERE kind = 'subject.view' ORDER BY agency")
        ).all()  # fmt: skip
    assert [r[0] for r in rows] == ["behavioral_health", "ems", "homeless_services", "police_cad"]
    police = rows[-1]
    assert police.categories.strip(",").split(",") == sorted(
        set(agency_view(view, "police_cad")["categories"])
    )
    assert police.policy_version == view["policy_version"]
    assert police.rule is not None
    assert police.rule.startswith("rule-")
    bh = rows[0]
    assert "substance_use" in bh.withheld  # concealed from the user, not from auditors
    assert bh.decision == "partial"


def test_context_values_never_reach_audit_events_or_logs(
    ph: PolicyHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ph.consent(
        "behavioral_health",
        recipients=[{"role": "bh_clinician"}],
        categories=["substance_use"],
        purposes=["treatment"],
    )
    seen = []
    for user, purpose in (("clinician", "treatment"), ("officer", "public_safety"),
                          ("casemgr", "care_coordination"), ("medic", "emergency")):  # fmt: skip
        seen.append(ph.view(user, purpose))
    assert "zq-substance-note" in str(seen)  # the values were disclosed ...

    columns = ", ".join(c.name for c in AuditEvent.__table__.columns)  # type: ignore[attr-defined]
    with ph.hub.engine.connect() as connection:
        events = connection.execute(text(f"SELECT {columns} FROM audit_event")).all()  # noqa: S608
    dumped = repr(events) + caplog.text
    assert not [marker for marker in MARKERS if marker in dumped]  # ... but never logged


def test_criminal_history_reaches_only_cjis_authorised_police_staff(
    ph: PolicyHub, secret: LinkageSecret, fixtures_dir: Path
) -> None:
    hub = ph.hub
    row = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[5]
    record = encode_rows(secret, "police_cad", [row])[0]
    record.context.clear()
    record.context["criminal_history"] = {"record_summary": "zq-cjis-summary"}
    assert hub.submit("st-police_cad", [record]).status_code == 200
    with hub.engine.begin() as connection:
        connection.execute(
            text("UPDATE stored_record SET subject_id = :s WHERE record_id = :r"),
            {"s": ph.subject_id, "r": record.record_id},
        )
    hub.user("sgt", "police_officer", "police_cad")
    hub.user("root", "admin", "program")
    hub.client.put(
        "/v1/admin/users/sgt/cjis", json={"authorized": True}, headers=hub.auth("root")
    ).raise_for_status()

    def view(username: str) -> Any:
        response = hub.client.get(
            f"/v1/subjects/{ph.subject_id}",
            params={"purpose": "crisis_response"},
            headers=hub.auth(username),
        )
        assert response.status_code == 200, response.text
        return response

    vetted, unvetted, clinician = view("sgt"), view("officer"), view("clinician")

    assert "criminal_history" in disclosed(vetted.json())["police_cad"]
    assert "zq-cjis-summary" in vetted.text
    assert "criminal_history" not in disclosed(unvetted.json()).get("police_cad", set())
    assert "criminal_history" in withheld(unvetted.json(), "police_cad")
    assert "zq-cjis-summary" not in unvetted.text
    assert "zq-cjis-summary" not in clinician.text
