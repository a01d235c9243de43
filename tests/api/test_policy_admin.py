"""The privacy-officer workflow through HTTP: drafts, validation, scope, what-if, publish,
rollback, explain, the policy file and CLI, and propagation to another process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.cli import main
from api.hub.app import create_app
from api.web.error_handlers import POLICY_STATUS_BY_ERROR
from linkage.encode.keys import LinkageSecret
from policy import errors as policy_errors
from policy.policy_file import parse_policy
from tests.api.hub import Hub, make_settings
from tests.api.policy_setup import PolicyHub, build_policy_hub, disclosed

COMMUNICATION = {
    "role": "police_officer", "category": "communication_needs", "purpose": "*",
    "condition": "always", "effect": "allow",
}  # fmt: skip


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject at four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


def _published_scope(ph: PolicyHub, scope: str) -> dict[str, Any]:
    versions = ph.hub.client.get("/v1/policies", headers=ph.hub.auth("auditor")).json()["versions"]
    version = ph.hub.client.get(
        f"/v1/policies/versions/{versions[scope]}", headers=ph.hub.auth("auditor")
    )
    return dict(version.json())


def _draft(ph: PolicyHub, user: str, scope: str, rules: list[dict[str, Any]], **extra: Any) -> Any:
    body = {"scope": scope, "rules": rules, **extra}
    return ph.hub.client.post("/v1/policies/drafts", json=body, headers=ph.hub.auth(user))


def _bh_rules_without(
    ph: PolicyHub, role: str, category: str
) -> tuple[list[dict[str, Any]], list[str]]:
    current = _published_scope(ph, "behavioral_health")
    rules = [
        {k: r[k] for k in ("role", "category", "purpose", "condition", "effect")}
        for r in current["rules"]
        if not (r["role"] == role and r["category"] == category)
    ]
    return rules, current["shares_with"]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({**COMMUNICATION, "role": "police_oficer"}, "rules[0].role"),
        ({**COMMUNICATION, "condition": "consent_granted or 1"}, "rules[0].condition"),
        ({**COMMUNICATION, "categroy": "housing"}, "rules[0].categroy"),
        ({k: v for k, v in COMMUNICATION.items() if k != "effect"}, "rules[0].effect"),
    ],
    ids=["role", "condition", "unknown_key", "missing_effect"],
)
def test_a_typo_is_a_422_naming_the_field(ph: PolicyHub, rule: dict[str, Any], field: str) -> None:
    response = _draft(ph, "po-bh", "behavioral_health", [rule])

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


SUBSTANCE_USE = {**COMMUNICATION, "role": "bh_clinician", "category": "substance_use"}


@pytest.mark.parametrize(
    ("user", "scope", "rule", "field", "says"),
    [
        ("po-bh", "behavioral_health", SUBSTANCE_USE, "rules[1].condition", "consent"),
        ("po-bh", "behavioral_health", {**SUBSTANCE_USE, "condition": "same_agency"},
         "rules[1].condition", "consent"),
        ("po-bh", "behavioral_health", {**SUBSTANCE_USE, "category": "*"},
         "rules[1].condition", "includes substance_use"),
        ("po-bh", "behavioral_health", {**SUBSTANCE_USE, "condition": "break_glass"},
         "rules[1].purpose", "emergency"),
        ("ppo", "*", COMMUNICATION, "rules[1].effect", "deny only"),
        ("ppo", "*", {**SUBSTANCE_USE, "condition": "consent_granted"}, "rules[1].effect",
         "deny only"),
    ],
    ids=["part2_always", "part2_same_agency", "wildcard_always", "part2_break_glass_any_purpose",
         "program_wide_allow", "program_wide_consented_allow"],
)  # fmt: skip
def test_an_allow_bypassing_consent_or_the_owner_is_a_422_naming_the_field(
    ph: PolicyHub, user: str, scope: str, rule: dict[str, Any], field: str, says: str
) -> None:
    fine = {**COMMUNICATION, "effect": "deny"}
    response = _draft(ph, user, scope, [fine, rule])

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert says in response.json()["detail"]
    drafts = ph.hub.client.get("/v1/policies/versions", headers=ph.hub.auth(user)).json()
    assert all(v["published"] for v in drafts["versions"])  # nothing was stored


def test_privacy_officers_edit_only_their_own_scope(ph: PolicyHub) -> None:
    assert _draft(ph, "po-police", "behavioral_health", [COMMUNICATION]).status_code == 403
    assert _draft(ph, "po-bh", "*", [COMMUNICATION]).status_code == 403
    assert _draft(ph, "officer", "police_cad", [COMMUNICATION]).status_code == 403
    guard_rail = {**COMMUNICATION, "effect": "deny"}  # program-wide rules deny only
    assert _draft(ph, "ppo", "*", [guard_rail]).status_code == 201
    own = _draft(ph, "po-bh", "behavioral_health", [COMMUNICATION])
    assert own.status_code == 201
    publish = ph.hub.client.post(
        f"/v1/policies/versions/{own.json()['id']}/publish", headers=ph.hub.auth("po-police")
    )
    assert publish.status_code == 403
    with ph.hub.engine.connect() as connection:
        denied = connection.execute(
            text("SELECT count(*) FROM audit_event WHERE kind = 'access.denied'")
        ).scalar_one()
    assert denied >= 3


def test_what_if_lists_changed_decisions_then_publish_and_rollback(ph: PolicyHub) -> None:
    before = _published_scope(ph, "behavioral_health")
    rules, shares = _bh_rules_without(ph, "police_officer", "communication_needs")
    draft = _draft(ph, "po-bh", "behavioral_health", rules, shares_with=shares, note="tighten")
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["id"]

    report = ph.hub.client.post(
        f"/v1/policies/versions/{draft_id}/what-if", headers=ph.hub.auth("po-bh")
    ).json()
    assert report["changed"] > 0
    changed = {(c["role"], c["owner"], c["category"]) for c in report["changes"]}
    assert changed == {("police_officer", "behavioral_health", "communication_needs")}
    assert all(c["before"]["allowed"] and not c["after"]["allowed"] for c in report["changes"])

    assert (
        "communication_needs" in disclosed(ph.view("officer", "public_safety"))["behavioral_health"]
    )
    published = ph.hub.client.post(
        f"/v1/policies/versions/{draft_id}/publish", headers=ph.hub.auth("po-bh")
    )
    assert published.status_code == 200, published.text
    assert "behavioral_health" not in disclosed(ph.view("officer", "public_safety"))
    again = ph.hub.client.post(
        f"/v1/policies/versions/{draft_id}/publish", headers=ph.hub.auth("po-bh")
    )
    assert again.status_code == 409

    diff = ph.hub.client.get(
        f"/v1/policies/diff?from={before['id']}&to={draft_id}", headers=ph.hub.auth("auditor")
    ).json()
    assert [(r["role"], r["category"]) for r in diff["removed_rules"]] == [
        ("police_officer", "communication_needs")
    ]
    assert diff["added_rules"] == []

    rollback = ph.hub.client.post(
        f"/v1/policies/versions/{before['id']}/rollback", headers=ph.hub.auth("po-bh")
    )
    assert rollback.status_code == 200, rollback.text
    assert (
        "communication_needs" in disclosed(ph.view("officer", "public_safety"))["behavioral_health"]
    )
    versions = ph.hub.client.get(
        "/v1/policies/versions?scope=behavioral_health", headers=ph.hub.auth("auditor")
    ).json()["versions"]
    assert [v["id"] for v in versions][:3] == [
        rollback.json()["version_id"],
        draft_id,
        before["id"],
    ]
    assert versions[0]["note"] == f"rollback to version {before['id']}"
    with ph.hub.engine.connect() as connection:
        kinds = connection.execute(
            text("SELECT kind FROM audit_event WHERE kind LIKE 'policy.%' ORDER BY id")
        ).scalars().all()  # fmt: skip
    assert kinds == ["policy.publish", "policy.edit", "policy.publish", "policy.publish"]


def test_explain_names_the_deciding_rule(ph: PolicyHub) -> None:
    query = (
        "role=police_officer&agency=police_cad&owner=behavioral_health"
        "&category=behavioral_health&purpose=public_safety"
    )
    answer = ph.hub.client.get(f"/v1/policies/explain?{query}", headers=ph.hub.auth("auditor"))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["allowed"], body["reason"]) == (False, "denied_by_rule")
    assert body["rule"]["scope"] == "*"
    assert body["rule"]["effect"] == "deny"
    assert body["rule"]["id"].startswith("rule-")
    assert body["explanation"].startswith("denied_by_rule: deny any role")
    typo = ph.hub.client.get(
        f"/v1/policies/explain?{query.replace('public_safety', 'curiosity')}",
        headers=ph.hub.auth("auditor"),
    )
    assert (typo.status_code, typo.json()["field"]) == (422, "purpose")


def test_the_policy_file_round_trips_through_http_and_the_cli(
    ph: PolicyHub, tmp_path: Path
) -> None:
    as_json = ph.hub.client.get("/v1/policies", headers=ph.hub.auth("auditor")).json()
    as_file = ph.hub.client.get("/v1/policies?format=file", headers=ph.hub.auth("auditor")).text
    parsed = parse_policy(as_file)
    assert {r.to_fields() for r in parsed.rules} == {
        tuple(r[k] for k in ("scope", "role", "category", "purpose", "condition", "effect"))
        for r in as_json["rules"]
    }

    url = ph.hub.settings.database_url
    exported = tmp_path / "policy.toml"
    assert main(["policy", "--database-url", url, "export", "-o", str(exported)]) == 0
    assert parse_policy(exported.read_text("utf-8")).rules == parsed.rules
    broken = tmp_path / "broken.toml"
    broken.write_text(as_file.replace('"safety_flags"', '"safety_flag"', 1), "utf-8")
    assert main(["policy", "--database-url", url, "import", str(broken)]) == 2
    assert main(["policy", "--database-url", url, "import", str(exported)]) == 0
    versions = ph.hub.client.get("/v1/policies/versions", headers=ph.hub.auth("auditor")).json()
    assert {v["author"] for v in versions["versions"][:5]} == {"cli"}


def test_every_policy_error_has_a_status() -> None:
    def subclasses(root: type) -> set[type]:
        found = {root}
        for child in root.__subclasses__():
            found |= subclasses(child)
        return found

    for kind in subclasses(policy_errors.PolicyError):
        assert kind in POLICY_STATUS_BY_ERROR, kind
    assert POLICY_STATUS_BY_ERROR[policy_errors.PolicyValidationError] == 422


@pytest.fixture
def second_app(ph: PolicyHub) -> Iterator[TestClient]:
    """Another server process's app on the same database."""
    with TestClient(create_app(make_settings(ph.hub.settings.database_url))) as client:
        yield client


def test_a_publish_reaches_another_process_within_a_second(
    ph: PolicyHub, second_app: TestClient
) -> None:
    query = (
        "/v1/policies/explain?role=police_officer&agency=police_cad&owner=behavioral_health"
        "&category=communication_needs&purpose=public_safety"
    )
    headers = ph.hub.auth("auditor")
    assert second_app.get(query, headers=headers).json()["allowed"] is True
    rules, shares = _bh_rules_without(ph, "police_officer", "communication_needs")
    draft = _draft(ph, "po-bh", "behavioral_health", rules, shares_with=shares).json()

    ph.hub.client.post(f"/v1/policies/versions/{draft['id']}/publish", headers=ph.hub.auth("po-bh"))
    start = time.monotonic()
    while second_app.get(query, headers=headers).json()["allowed"]:
        assert time.monotonic() - start < 1.0, "the second process still uses the old policy"
        time.sleep(0.02)
