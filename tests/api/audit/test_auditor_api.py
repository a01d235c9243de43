"""The auditor's API: who may use it, that every use is logged, and what it answers."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from api.db import session_scope, utcnow
from api.hub.audit import EventKind, record
from api.hub.audit.events import build_event
from api.hub.audit.merkle import verify_consistency
from api.hub.audit.search import EXPORT_COLUMNS
from api.hub.audit.signing import parse_private_key, verify_head_signature
from api.hub.audit.tables import AuditEvent
from api.hub.identity.service import Principal
from api.hub.linking.tables import SubjectEventRow
from api.hub.settings import DEV_SIGNING_SEED
from policy.vocabulary import Role
from tests.api.audit import reference
from tests.api.audit.helpers import events_of, quiet_hub, seal
from tests.api.hub import Hub

OFFICER = Principal(901, "ofc.lee", Role.POLICE_OFFICER, "police")
CLINICIAN = Principal(902, "dr.kim", Role.BH_CLINICIAN, "county_bh")

ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/audit/events", {}),
    ("GET", "/v1/audit/events/export", {"format": "jsonl"}),
    ("GET", "/v1/audit/break-glass", {}),
    ("GET", "/v1/audit/subjects/S-1/disclosures", {}),
    ("GET", "/v1/audit/verify", {}),
    ("GET", "/v1/audit/tree-heads", {}),
    ("POST", "/v1/audit/tree-heads", {}),
    ("GET", "/v1/audit/proofs/consistency", {"first": 1}),
    ("GET", "/v1/audit/public-key", {}),
]


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    """A hub with an auditor, an officer and an admin, and a few disclosure events."""
    for hub in quiet_hub(database_url):
        hub.user("ann", "auditor", "county")
        hub.user("ofc", "police_officer", "police")
        hub.user("root", "admin", "county")
        with session_scope(hub.engine) as session:
            _disclosure(
                session, OFFICER, "S-1", "county_bh", ["behavioral_health"], "crisis_response"
            )
            _disclosure(session, OFFICER, "S-2", "county_bh", [], "public_safety")
            _disclosure(session, CLINICIAN, "S-1", "police", ["safety_flags"], "treatment")
            _disclosure(
                session, OFFICER, "S-3", "county_bh", ["medical"], "emergency", break_glass=True
            )
        seal(hub)
        yield hub


def _disclosure(
    session: Any,
    actor: Principal,
    subject: str,
    agency: str,
    returned: list[str],
    purpose: str,
    *,
    break_glass: bool = False,
) -> None:
    record(
        session,
        EventKind.BREAK_GLASS if break_glass else EventKind.SUBJECT_VIEW,
        actor=actor,
        subject_id=subject,
        agency=agency,
        categories=returned,
        withheld=[] if returned else ["medical"],
        decision="permit" if returned else "deny",
        purpose=purpose,
        break_glass=break_glass,
        reason="caller reports an overdose in progress" if break_glass else None,
        incident="CAD-77" if break_glass else None,
    )


def _call(hub: Hub, user: str | None, method: str, path: str, params: dict[str, Any]) -> Any:
    headers = hub.auth(user) if user else {}
    return hub.client.request(method, path, params=params, headers=headers)


@pytest.mark.parametrize(("method", "path", "params"), ROUTES)
@pytest.mark.parametrize("user", ["ofc", "root"])
def test_only_auditors_reach_the_log_and_refusals_are_logged(
    hub: Hub, user: str, method: str, path: str, params: dict[str, Any]
) -> None:
    response = _call(hub, user, method, path, params)

    assert response.status_code == 403
    denied = events_of(hub, kind="access.denied", actor_username=user)
    assert len(denied) == 1
    assert denied[0]["decision"] == "deny"


def test_anonymous_calls_are_refused_and_logged(hub: Hub) -> None:
    response = hub.client.get("/v1/audit/events", headers={"Authorization": "Bearer cw_forged"})

    assert response.status_code == 401
    failures = events_of(hub, kind="auth.failure")
    assert len(failures) == 1
    assert orjson.loads(failures[0]["details"]) == {
        "cause": "invalid_token",
        "operation": "search",
        "count": 1,
    }


@pytest.mark.parametrize(("method", "path", "params"), ROUTES)
def test_every_look_at_the_log_is_itself_logged(
    hub: Hub, method: str, path: str, params: dict[str, Any]
) -> None:
    response = _call(hub, "ann", method, path, params)

    assert response.status_code in (200, 201), response.text
    access = events_of(hub, kind="audit.access", actor_username="ann")
    assert len(access) == 1
    assert access[0]["request_id"] == response.headers["x-request-id"]


def _search(hub: Hub, **params: Any) -> list[dict[str, Any]]:
    response = hub.client.get("/v1/audit/events", params=params, headers=hub.auth("ann"))
    assert response.status_code == 200, response.text
    return [e for e in response.json()["events"] if e["kind"] != "audit.access"]


@pytest.mark.parametrize(
    ("params", "subjects"),
    [
        ({"user": "ofc.lee"}, ["S-3", "S-2", "S-1"]),
        ({"agency": "police"}, ["S-3", "S-1", "S-2", "S-1"]),  # data owner or requester
        ({"subject_id": "S-1"}, ["S-1", "S-1"]),
        ({"category": "medical"}, ["S-3", "S-2"]),  # returned or withheld
        ({"purpose": "treatment"}, ["S-1"]),
        ({"decision": "deny"}, ["S-2"]),
        ({"break_glass": "true"}, ["S-3"]),
        ({"kind": "subject.view", "user": "dr.kim"}, ["S-1"]),
    ],
)
def test_search_filters(hub: Hub, params: dict[str, Any], subjects: list[str]) -> None:
    found = [e for e in _search(hub, **params) if e["subject_id"]]

    assert sorted(e["subject_id"] for e in found) == sorted(subjects)


def test_search_by_time_and_paging(hub: Hub) -> None:
    now = utcnow()
    assert len(_search(hub, since=(now - timedelta(minutes=5)).isoformat())) >= 4
    assert _search(hub, until=(now - timedelta(minutes=5)).isoformat()) == []

    first = hub.client.get("/v1/audit/events", params={"limit": 2}, headers=hub.auth("ann")).json()
    second = hub.client.get(
        "/v1/audit/events",
        params={"limit": 2, "before_id": first["next_before_id"]},
        headers=hub.auth("ann"),
    ).json()

    assert first["next_before_id"] == first["events"][-1]["id"]
    ids = [e["id"] for e in first["events"] + second["events"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 4


@pytest.mark.parametrize("params", [{"category": "gossip"}, {"purpose": "curiosity"}])
def test_unknown_vocabulary_in_a_search_is_refused(hub: Hub, params: dict[str, str]) -> None:
    response = hub.client.get("/v1/audit/events", params=params, headers=hub.auth("ann"))

    assert response.status_code == 422


def test_csv_export(hub: Hub) -> None:
    response = hub.client.get(
        "/v1/audit/events/export",
        params={"format": "csv", "agency": "county_bh"},
        headers=hub.auth("ann"),
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    views = [r for r in rows if r["kind"] in ("subject.view", "subject.break_glass")]
    assert sorted(r["subject_id"] for r in views) == ["S-1", "S-1", "S-2", "S-3"]  # owner or reader
    s3 = next(r for r in views if r["subject_id"] == "S-3")
    assert (s3["categories"], s3["break_glass"], s3["incident"]) == ("medical", "True", "CAD-77")


def test_json_lines_export(hub: Hub) -> None:
    response = hub.client.get(
        "/v1/audit/events/export", params={"format": "jsonl"}, headers=hub.auth("ann")
    )

    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert all(set(line) == set(EXPORT_COLUMNS) for line in lines)
    assert [line["id"] for line in lines] == sorted(line["id"] for line in lines)
    assert {"S-1", "S-2", "S-3"} <= {line["subject_id"] for line in lines}


def test_break_glass_review_queue(hub: Hub) -> None:
    queue = hub.client.get("/v1/audit/break-glass", headers=hub.auth("ann")).json()["events"]
    assert [e["subject_id"] for e in queue] == ["S-3"]
    event_id = queue[0]["id"]

    note = {"note": "Reviewed with the shift supervisor; use justified."}
    done = hub.client.post(
        f"/v1/audit/break-glass/{event_id}/review", json=note, headers=hub.auth("ann")
    )
    again = hub.client.post(
        f"/v1/audit/break-glass/{event_id}/review", json=note, headers=hub.auth("ann")
    )

    assert done.status_code == 201
    assert again.status_code == 409
    assert hub.client.get("/v1/audit/break-glass", headers=hub.auth("ann")).json()["events"] == []
    reviewed = hub.client.get(
        "/v1/audit/break-glass", params={"reviewed": True}, headers=hub.auth("ann")
    ).json()["events"]
    assert reviewed[0]["review"]["reviewed_by"] == "ann"
    assert reviewed[0]["review"]["note"] == note["note"]
    logged = events_of(hub, kind="audit.break_glass_review")
    assert len(logged) == 1
    assert logged[0]["reason"] == note["note"]


def test_a_review_note_with_identifiers_is_refused(hub: Hub) -> None:
    event_id = events_of(hub, kind="subject.break_glass")[0]["id"]
    note = {"note": "patient ssn 123-45-6789 confirmed"}

    response = hub.client.post(
        f"/v1/audit/break-glass/{event_id}/review", json=note, headers=hub.auth("ann")
    )

    assert response.status_code == 422
    assert "123-45-6789" not in str(events_of(hub))


def test_only_break_glass_events_can_be_reviewed(hub: Hub) -> None:
    event_id = events_of(hub, kind="subject.view")[0]["id"]

    response = hub.client.post(
        f"/v1/audit/break-glass/{event_id}/review", json={"note": "ok"}, headers=hub.auth("ann")
    )

    assert response.status_code == 404


def test_accounting_of_disclosures_follows_merges_and_spans_six_years(hub: Hub) -> None:
    with session_scope(hub.engine) as session:
        session.add(
            SubjectEventRow(kind="merge", subject_ids='["S-9"]', previous_ids='["S-1", "S-3"]')
        )
        old = build_event(
            EventKind.SUBJECT_VIEW,
            actor=OFFICER,
            subject_id="S-1",
            categories=["housing"],
            decision="permit",
            purpose="care_coordination",
            occurred_at=utcnow() - timedelta(days=365 * 7),
        )
        session.add(AuditEvent(**old.values))
        _disclosure(session, CLINICIAN, "S-9", "police", ["safety_flags"], "crisis_response")

    report = hub.client.get("/v1/audit/subjects/S-9/disclosures", headers=hub.auth("ann")).json()

    assert report["subject_ids"] == ["S-1", "S-3", "S-9"]
    seen = [(d["subject_id"], d["categories"], d["purpose"]) for d in report["disclosures"]]
    assert seen == [
        ("S-1", ["behavioral_health"], "crisis_response"),
        ("S-1", ["safety_flags"], "treatment"),
        ("S-3", ["medical"], "emergency"),
        ("S-9", ["safety_flags"], "crisis_response"),
    ]  # not the denial of S-2, not the seven-year-old view
    assert report["disclosures"][2]["break_glass"] is True


def test_signed_heads_and_proofs_check_against_an_independent_tree(hub: Hub) -> None:
    head = hub.client.post("/v1/audit/tree-heads", headers=hub.auth("ann")).json()
    with hub.engine.connect() as db:
        leaves = list(db.execute(text("SELECT entry_hash FROM audit_chain ORDER BY seq")).scalars())
    size = head["tree_size"]
    public_key = parse_private_key(DEV_SIGNING_SEED).public_key()

    assert size == len(leaves)
    assert reference.mth(leaves).hex() == head["root_hash"]
    assert verify_head_signature(
        public_key,
        size,
        head["timestamp_us"],
        bytes.fromhex(head["root_hash"]),
        bytes.fromhex(head["signature"]),
    )
    event_id = events_of(hub, kind="subject.break_glass")[0]["id"]
    inclusion = hub.client.get(
        "/v1/audit/proofs/inclusion",
        params={"event_id": event_id, "tree_size": size},
        headers=hub.auth("ann"),
    ).json()
    path = [bytes.fromhex(h) for h in inclusion["proof"]]
    index = inclusion["leaf_index"]
    assert bytes.fromhex(inclusion["leaf_hash"]) == leaves[index]
    assert reference.root_from_path(index, size, leaves[index], path) == reference.mth(leaves)
    first = 3
    consistency = hub.client.get(
        "/v1/audit/proofs/consistency",
        params={"first": first, "second": size},
        headers=hub.auth("ann"),
    ).json()
    proof = [bytes.fromhex(h) for h in consistency["proof"]]
    assert proof == reference.proof(first, leaves[:size])
    assert verify_consistency(
        first, size, reference.mth(leaves[:first]), reference.mth(leaves), proof
    )


def test_request_ids_are_honoured_returned_and_logged(hub: Hub) -> None:
    given = hub.client.get(
        "/v1/audit/tree-heads", headers={**hub.auth("ann"), "X-Request-ID": "gw-42.a"}
    )
    refused = hub.client.get(
        "/v1/audit/tree-heads", headers={**hub.auth("ann"), "X-Request-ID": "123-45-6789"}
    )

    assert given.headers["x-request-id"] == "gw-42.a"
    assert refused.headers["x-request-id"] != "123-45-6789"
    ids = {e["request_id"] for e in events_of(hub, kind="audit.access")}
    assert ids == {"gw-42.a", refused.headers["x-request-id"]}
    assert all(e["client"] == "testclient" for e in events_of(hub, kind="audit.access"))


def test_sealing_happens_in_the_background(database_url: str) -> None:
    for hub in quiet_hub(database_url, audit_seal_interval_seconds=0.05):
        hub.user("ann", "auditor", "county")
        for _ in range(50):
            with hub.engine.connect() as db:
                if db.execute(text("SELECT count(*) FROM audit_pending")).scalar_one() == 0:
                    break
            time.sleep(0.05)
        with hub.engine.connect() as db:
            assert db.execute(text("SELECT count(*) FROM audit_pending")).scalar_one() == 0
            assert db.execute(text("SELECT count(*) FROM audit_chain")).scalar_one() == 3
        assert seal(hub) == 0
