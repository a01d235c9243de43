"""Who reads unpublished drafts, through every policy route that returns one (issue #11, 13).

A draft is read only by those who may edit its scope: an agency's privacy
officer its own agency's, the program privacy officer the program-wide ones.
Auditors and other agencies' privacy officers read published versions only; to
them another scope's draft is absent from listings and a 404 everywhere else,
and each refused read is an ``access.denied`` event.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import text

from linkage.encode.keys import LinkageSecret
from tests.api.hub import Hub
from tests.api.policy_setup import PolicyHub, build_policy_hub

MARKER_RULE = {  # a rule no published version has, so its presence in an answer is visible
    "role": "case_manager", "category": "follow_up", "purpose": "treatment",
    "condition": "consent_granted", "effect": "allow",
}  # fmt: skip
GUARD_RAIL = {
    "role": "case_manager", "category": "medical", "purpose": "treatment",
    "condition": "always", "effect": "deny",
}  # fmt: skip
EXPLAIN = (
    "/v1/policies/explain?role=case_manager&agency=behavioral_health&owner=behavioral_health"
    "&category=follow_up&purpose=treatment&consent=granted"
)


@pytest.fixture
def drafts(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> tuple[PolicyHub, dict[str, Any]]:
    """The default policy; a behavioral-health draft and a program-wide draft, unpublished."""
    ph = build_policy_hub(hub, secret, fixtures_dir)
    versions = {}
    for user, scope, rules in (
        ("po-bh", "behavioral_health", [MARKER_RULE]),
        ("ppo", "*", [GUARD_RAIL]),
    ):
        response = ph.hub.client.post(
            "/v1/policies/drafts", json={"scope": scope, "rules": rules},
            headers=ph.hub.auth(user),
        )  # fmt: skip
        assert response.status_code == 201, response.text
        versions[scope] = response.json()
    published = ph.hub.client.get("/v1/policies", headers=ph.hub.auth("auditor")).json()
    versions["published_bh"] = published["versions"]["behavioral_health"]
    return ph, versions


def _reads(ph: PolicyHub, user: str, draft: int, published: int) -> dict[str, Response]:
    """Every route that returns a draft (or a decision of one), asked by ``user``."""
    client, headers = ph.hub.client, ph.hub.auth(user)
    calls: dict[str, Callable[[], Response]] = {
        "version": lambda: client.get(f"/v1/policies/versions/{draft}", headers=headers),
        "diff_to": lambda: client.get(
            f"/v1/policies/diff?from={published}&to={draft}", headers=headers
        ),
        "diff_from": lambda: client.get(
            f"/v1/policies/diff?from={draft}&to={published}", headers=headers
        ),
        "what_if": lambda: client.post(f"/v1/policies/versions/{draft}/what-if", headers=headers),
        "explain": lambda: client.get(f"{EXPLAIN}&version_id={draft}", headers=headers),
    }
    return {name: call() for name, call in calls.items()}


def _listed(ph: PolicyHub, user: str, scope: str | None = None) -> set[int]:
    query = f"?scope={scope}" if scope else ""
    response = ph.hub.client.get(f"/v1/policies/versions{query}", headers=ph.hub.auth(user))
    assert response.status_code == 200, response.text
    return {v["id"] for v in response.json()["versions"]}


def _denied_reads(ph: PolicyHub) -> int:
    with ph.hub.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM audit_event WHERE kind = 'access.denied' "
                     "AND details LIKE '%policy_read%'")
            ).scalar_one()
        )  # fmt: skip


@pytest.mark.parametrize("reader", ["po-police", "ppo", "auditor"])
def test_another_scopes_draft_is_absent_to_every_route(
    drafts: tuple[PolicyHub, dict[str, Any]], reader: str
) -> None:
    ph, versions = drafts
    draft, published = versions["behavioral_health"]["id"], versions["published_bh"]

    assert draft not in _listed(ph, reader)
    assert draft not in _listed(ph, reader, "behavioral_health")
    assert published in _listed(ph, reader, "behavioral_health")
    answers = _reads(ph, reader, draft, published)
    for route, answer in answers.items():
        assert answer.status_code == 404, (route, answer.text)
        assert "follow_up" not in answer.text, route
    assert _denied_reads(ph) == len(answers)
    published_version = ph.hub.client.get(
        f"/v1/policies/versions/{published}", headers=ph.hub.auth(reader)
    )
    assert published_version.status_code == 200, published_version.text


@pytest.mark.parametrize("reader", ["po-bh", "po-police", "auditor"])
def test_program_wide_drafts_are_the_program_privacy_officers(
    drafts: tuple[PolicyHub, dict[str, Any]], reader: str
) -> None:
    ph, versions = drafts
    draft = versions["*"]["id"]
    published = ph.hub.client.get("/v1/policies", headers=ph.hub.auth("auditor")).json()
    program = published["versions"]["*"]

    assert draft not in _listed(ph, reader)
    assert draft not in _listed(ph, reader, "*")
    for route, answer in _reads(ph, reader, draft, program).items():
        assert answer.status_code == 404, (route, answer.text)
    assert draft in _listed(ph, "ppo", "*")


def test_each_scopes_editor_reads_its_own_draft_everywhere(
    drafts: tuple[PolicyHub, dict[str, Any]],
) -> None:
    ph, versions = drafts
    for user, scope, published in (
        ("po-bh", "behavioral_health", versions["published_bh"]),
        ("ppo", "*", None),
    ):
        draft = versions[scope]["id"]
        assert draft in _listed(ph, user)
        if published is None:
            all_published = ph.hub.client.get("/v1/policies", headers=ph.hub.auth("auditor"))
            published = all_published.json()["versions"]["*"]
        for route, answer in _reads(ph, user, draft, published).items():
            assert answer.status_code == 200, (route, user, answer.text)
    own = ph.hub.client.get(
        f"/v1/policies/versions/{versions['behavioral_health']['id']}", headers=ph.hub.auth("po-bh")
    ).json()
    assert {r["category"] for r in own["rules"]} == {"follow_up"}
    explained = ph.hub.client.get(
        f"{EXPLAIN}&version_id={versions['behavioral_health']['id']}", headers=ph.hub.auth("po-bh")
    ).json()
    assert explained["allowed"] is True
    assert _denied_reads(ph) == 0
