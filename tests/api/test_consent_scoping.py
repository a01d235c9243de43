"""A consent id belongs to its agency: no other agency can write, hide or probe it (issue #11).

The attack: consent ids were global, so another agency could import a FHIR
Consent under the owner's id with a higher ``meta.versionId`` — which then was
the "latest version" of the owner's consent. It blocked the owner's revocation
(403), voided the owner's consent, or replaced a subject's refusal so that data
flowed again. Now a consent is identified by (agency, id): another agency's
consent of the same id is its own and never touches the owner's, and every
answer an outsider gets about an id is the one it gets for an unknown id.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkage.encode.keys import LinkageSecret
from tests.api.consent_docs import HOUSING, bundle, fhir_consent
from tests.api.hub import Hub
from tests.api.policy_setup import PolicyHub, build_policy_hub, disclosed, withheld

OWNER = "homeless_services"
OUTSIDER = "police_cad"


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject at four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


def _import(ph: PolicyHub, agency: str, *resources: dict[str, Any]) -> httpx.Response:
    return ph.hub.client.post(
        "/v1/consents/import", json=bundle(*resources), headers=ph.hub.auth(f"st-{agency}")
    )


def _housing_reason(ph: PolicyHub) -> str | None:
    """Why the shelter's housing data is withheld from the clinician (``None``: disclosed)."""
    view = ph.view("clinician", "crisis_response")
    if "housing" in disclosed(view).get(OWNER, set()):
        return None
    return withheld(view, OWNER)["housing"]


def test_another_agencys_version_under_the_same_id_neither_voids_nor_blocks_the_owners(
    ph: PolicyHub,
) -> None:
    ph.consent(OWNER, consent_id="shared-1", **HOUSING)
    hijack = fhir_consent(
        OUTSIDER, ph.record_ids[OUTSIDER], "shared-1", version=2, status="entered-in-error"
    )

    assert _import(ph, OUTSIDER, hijack).status_code == 201  # its own consent "shared-1"

    assert _housing_reason(ph) is None  # the owner's consent still grants
    history = ph.hub.client.get(
        "/v1/consents?consent_id=shared-1", headers=ph.hub.auth("auditor")
    ).json()["consents"]
    assert [(c["agency"], c["version"], c["status"]) for c in history] == [
        (OWNER, 1, "active"),
        (OUTSIDER, 2, "entered-in-error"),
    ]
    revoked = ph.hub.client.post("/v1/consents/shared-1/revoke", headers=ph.hub.auth(f"st-{OWNER}"))
    assert revoked.status_code == 201, revoked.text
    assert (revoked.json()["agency"], revoked.json()["version"]) == (OWNER, 2)
    assert _housing_reason(ph) == "consent_revoked"


def test_another_agency_cannot_undo_a_subjects_refusal(ph: PolicyHub) -> None:
    ph.consent(OWNER, consent_id="grant-1", **HOUSING)
    ph.consent(OWNER, consent_id="refusal-1", status="rejected", **HOUSING)
    assert _housing_reason(ph) == "consent_revoked"
    undo = fhir_consent(OUTSIDER, ph.record_ids[OUTSIDER], "refusal-1", version=2)

    assert _import(ph, OUTSIDER, undo).status_code == 201

    assert _housing_reason(ph) == "consent_revoked"


def _revoke(ph: PolicyHub, consent_id: str) -> httpx.Response:
    return ph.hub.client.post(
        f"/v1/consents/{consent_id}/revoke", headers=ph.hub.auth(f"st-{OUTSIDER}")
    )


def _read(ph: PolicyHub, consent_id: str) -> httpx.Response:
    return ph.hub.client.get(
        f"/v1/consents?consent_id={consent_id}&history=true", headers=ph.hub.auth(f"st-{OUTSIDER}")
    )


def _import_owners_version(ph: PolicyHub, consent_id: str) -> httpx.Response:
    resource = fhir_consent(OWNER, ph.record_ids[OWNER], consent_id, version=2, status="inactive")
    return _import(ph, OUTSIDER, resource)


def _create_owners_version(ph: PolicyHub, consent_id: str) -> httpx.Response:
    resource = fhir_consent(OWNER, ph.record_ids[OWNER], consent_id, version=2, status="inactive")
    return ph.hub.client.post("/v1/consents", json=resource, headers=ph.hub.auth(f"st-{OUTSIDER}"))


Probe = Callable[[PolicyHub, str], httpx.Response]
PROBES: dict[str, tuple[Probe, int]] = {
    "revoke": (_revoke, 404),
    "read": (_read, 200),
    "import_a_version_of_the_owners": (_import_owners_version, 403),
    "create_a_version_of_the_owners": (_create_owners_version, 403),
}


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_an_outsider_gets_the_same_answer_for_a_taken_id_as_for_an_unknown_one(
    ph: PolicyHub, probe: str
) -> None:
    ph.consent(OWNER, consent_id="known-1", **HOUSING)
    send, status = PROBES[probe]

    taken, unknown = send(ph, "known-1"), send(ph, "unknown-1")

    assert taken.status_code == status, taken.text
    assert (taken.status_code, taken.json()) == (unknown.status_code, unknown.json())
    assert _housing_reason(ph) is None


def _without_id(answer: dict[str, Any]) -> dict[str, Any]:
    """A consent's JSON without what differs between two writes (its id, the hub's time)."""
    return {k: v for k, v in answer.items() if k not in ("consent_id", "recorded")}


def test_an_outsiders_write_under_a_taken_id_is_answered_as_under_a_fresh_one(
    ph: PolicyHub,
) -> None:
    ph.consent(OWNER, consent_id="known-1", **HOUSING)
    ph.consent(OWNER, consent_id="known-2", **HOUSING)

    def create(consent_id: str) -> httpx.Response:
        body = {"record_id": ph.record_ids[OUTSIDER], "grantor": "subject", **HOUSING}
        return ph.hub.client.post(
            "/v1/consents", json={**body, "consent_id": consent_id},
            headers=ph.hub.auth(f"st-{OUTSIDER}"),
        )  # fmt: skip

    def import_(consent_id: str) -> httpx.Response:
        return _import(ph, OUTSIDER, fhir_consent(OUTSIDER, ph.record_ids[OUTSIDER], consent_id))

    for write, taken_id, fresh_id in (
        (create, "known-1", "fresh-1"),
        (import_, "known-2", "fresh-2"),
    ):
        taken, fresh = write(taken_id), write(fresh_id)
        assert (taken.status_code, fresh.status_code) == (201, 201), taken.text
        one, other = taken.json(), fresh.json()
        if "consents" in one:
            one, other = one["consents"][0], other["consents"][0]
        assert _without_id(one) == _without_id(other)
    assert _housing_reason(ph) is None


@pytest.mark.parametrize("consent_id", ["a%00b", "x" * 65, "a%20b", "%E2%80%AE"])
def test_an_id_no_consent_can_have_is_answered_as_an_unknown_one(
    ph: PolicyHub, consent_id: str
) -> None:
    for send in (_revoke, _read):
        odd, unknown = send(ph, consent_id), send(ph, "unknown-1")

        assert (odd.status_code, odd.json()) == (unknown.status_code, unknown.json())


def test_a_subject_id_with_a_nul_is_no_such_subject(ph: PolicyHub) -> None:
    odd, unknown = (
        ph.hub.client.get(f"/v1/consents?subject_id={subject}", headers=ph.hub.auth("auditor"))
        for subject in ("S-a%00b", "S-unknown")
    )

    assert (odd.status_code, odd.json()) == (unknown.status_code, unknown.json())
    assert odd.status_code == 404
