"""A hub with the default demo policy, the people who use it, and one linked subject.

The subject has one record at each of four agencies, with context values that
are easy to search for (``zq-…``): tests check both that allowed ones come back
and that none of them ever reaches an audit event or a log line. The records are
submitted through HTTP; making them one subject (what linking would do) is test
set-up and goes straight to the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update

from api.db import session_scope
from api.demo.builder import DEFAULT_POLICY
from api.hub.policies.admin import import_policy
from api.hub.records.tables import StoredRecord
from linkage.encode.keys import LinkageSecret
from tests.api.hub import Hub, encode_rows, read_rows

#: Context of the subject at each agency (every value is a searchable marker).
CONTEXT: dict[str, dict[str, dict[str, str]]] = {
    "police_cad": {
        "safety_flags": {"weapons": "zq-weapons-knife"},
        "communication_needs": {"language": "zq-lang-police"},
    },
    "behavioral_health": {
        "behavioral_health": {"crisis_plan": "zq-crisis-plan"},
        "communication_needs": {"language": "zq-lang-bh"},
        "substance_use": {"substance_use_note": "zq-substance-note"},
    },
    "homeless_services": {"housing": {"shelter_status": "zq-shelter-bed"}},
    "ems": {"medical": {"allergies": "zq-medical-allergy"}},
}
MARKERS = tuple(v for cats in CONTEXT.values() for f in cats.values() for v in f.values())

USERS: tuple[tuple[str, str, str], ...] = (
    ("clinician", "bh_clinician", "behavioral_health"),
    ("officer", "police_officer", "police_cad"),
    ("medic", "ems_medic", "ems"),
    ("casemgr", "case_manager", "homeless_services"),
    ("po-bh", "privacy_officer", "behavioral_health"),
    ("po-police", "privacy_officer", "police_cad"),
    ("ppo", "program_privacy_officer", "program"),
    ("auditor", "auditor", "program"),
)


@dataclass
class PolicyHub:
    """The hub, the subject id and each agency's record id of the subject."""

    hub: Hub
    subject_id: str
    record_ids: Mapping[str, str]

    def view(self, user: str, purpose: str) -> Any:
        """GET the subject view as ``user`` (asserting 200)."""
        response = self.hub.client.get(
            f"/v1/subjects/{self.subject_id}?purpose={purpose}", headers=self.hub.auth(user)
        )
        assert response.status_code == 200, response.text
        return response.json()

    def consent(self, agency: str, **fields: Any) -> Any:
        """Record a consent given through ``agency``'s record (as its steward)."""
        body = {"record_id": self.record_ids[agency], "grantor": "subject", **fields}
        response = self.hub.client.post(
            "/v1/consents", json=body, headers=self.hub.auth(f"st-{agency}")
        )
        assert response.status_code == 201, response.text
        return response.json()


def agency_view(view: Mapping[str, Any], agency: str) -> Mapping[str, Any]:
    """One agency's part of a view ({} when the agency is absent)."""
    return next((a for a in view["agencies"] if a["agency"] == agency), {})


def disclosed(view: Mapping[str, Any]) -> dict[str, set[str]]:
    """Agency → categories returned *with data*."""
    return {
        a["agency"]: {c for c, items in a["categories"].items() if items}
        for a in view["agencies"]
        if any(a["categories"].values())
    }


def withheld(view: Mapping[str, Any], agency: str) -> dict[str, str]:
    """Category → reason of one agency's withheld categories."""
    return {w["category"]: w["reason"] for w in agency_view(view, agency).get("withheld", [])}


def build_policy_hub(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """Agencies, users, the default policy, and one subject with records at four agencies."""
    for username, role, agency in USERS:
        hub.user(username, role, agency)
    import_policy(hub.engine, DEFAULT_POLICY.read_text("utf-8"))
    hub.client.app.state.services.policy.load()  # type: ignore[attr-defined]
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:4]
    record_ids: dict[str, str] = {}
    for row, (agency, context) in zip(rows, CONTEXT.items(), strict=True):
        hub.user(f"st-{agency}", "data_steward", agency)
        record = encode_rows(secret, agency, [row])[0]
        record.context.clear()
        record.context.update(context)
        response = hub.submit(f"st-{agency}", [record])
        assert response.status_code == 200, response.text
        record_ids[agency] = record.record_id
    subject_id = "S-policytest"
    with session_scope(hub.engine) as session:
        session.exec(update(StoredRecord).values(subject_id=subject_id))  # type: ignore[call-overload]
    return PolicyHub(hub, subject_id, record_ids)
