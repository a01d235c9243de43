"""The acts that exist today write their events: identity changes, subject reads, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from api.cli import main
from linkage.encode.keys import LinkageSecret
from policy.vocabulary import CATEGORIES
from tests.api.audit.helpers import events_of, quiet_hub
from tests.api.hub import Hub, encode_rows, read_rows


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    """A hub with an admin."""
    for hub in quiet_hub(database_url):
        hub.user("root", "admin", "program")
        yield hub


def test_identity_changes_through_the_api_are_logged_with_who_and_where(hub: Hub) -> None:
    headers = {**hub.auth("root"), "X-Request-ID": "admin-1"}
    hub.client.post("/v1/admin/agencies", json={"name": "fire"}, headers=headers)
    hub.client.post(
        "/v1/admin/users",
        json={"username": "sam", "role": "ems_medic", "agency": "fire"},
        headers=headers,
    )
    hub.client.post("/v1/admin/users/sam/tokens", headers=headers)
    hub.client.delete("/v1/admin/users/sam/tokens", headers=headers)

    mine = [e for e in events_of(hub) if e["request_id"] == "admin-1"]

    assert [e["kind"] for e in mine] == [
        "identity.agency_create",
        "identity.user_create",
        "identity.token_issue",
        "identity.token_revoke",
    ]
    assert {(e["actor_username"], e["actor_role"], e["client"]) for e in mine} == {
        ("root", "admin", "testclient")
    }
    assert orjson.loads(mine[3]["details"])["revoked"] == 1
    assert "cw_" not in str(mine)  # the token itself is never logged


def test_cli_identity_changes_are_logged_as_cli(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSWALK_ENVIRONMENT", "development")
    main(["admin", "--database-url", database_url, "create-agency", "county"])
    main(["admin", "--database-url", database_url, "create-user", "ada", "--role", "auditor",
          "--agency", "county"])  # fmt: skip
    capsys.readouterr()
    for hub in quiet_hub(database_url):
        logged = [(e["kind"], e["client"]) for e in events_of(hub)]

    assert logged == [("identity.agency_create", "cli"), ("identity.user_create", "cli")]


def test_a_subject_view_logs_each_agency_with_what_was_withheld(
    hub: Hub, fixtures_dir: Path, secret: LinkageSecret
) -> None:
    hub.user("steward", "data_steward", "police_cad")
    hub.user("medic", "ems_medic", "ems")
    hub.user("reviewer", "linkage_reviewer", "program")
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:2]
    subject = hub.submit("steward", encode_rows(secret, "police_cad", rows)).json()["records"][0][
        "subject_id"
    ]

    hub.client.get(
        f"/v1/subjects/{subject}", params={"purpose": "treatment"}, headers=hub.auth("medic")
    )
    hub.client.get(f"/v1/subjects/{subject}/records", headers=hub.auth("reviewer"))

    view = events_of(hub, kind="subject.view")
    assert len(view) == 1
    assert (view[0]["subject_id"], view[0]["agency"], view[0]["purpose"]) == (
        subject,
        "police_cad",
        "treatment",
    )
    assert (view[0]["decision"], view[0]["categories"], view[0]["actor_username"]) == (
        "deny",
        "",
        "medic",
    )
    assert view[0]["withheld"] == "," + ",".join(sorted(CATEGORIES)) + ","
    members = events_of(hub, kind="subject.records")
    assert orjson.loads(members[0]["details"]) == {"agencies": ["police_cad"], "records": 1}


def test_a_refused_role_is_logged_with_the_operation(hub: Hub) -> None:
    hub.user("medic", "ems_medic", "ems")

    hub.client.post("/v1/admin/agencies", json={"name": "x"}, headers=hub.auth("medic"))

    denied = events_of(hub, kind="access.denied")
    assert len(denied) == 1
    assert orjson.loads(denied[0]["details"]) == {"operation": "create_agency"}
    assert denied[0]["actor_username"] == "medic"


def test_submission_and_retraction_are_logged_with_counts_not_content(
    hub: Hub, fixtures_dir: Path, secret: LinkageSecret
) -> None:
    hub.user("pat", "data_steward", "police_cad")
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:12]
    records = encode_rows(secret, "police_cad", rows)
    assert hub.submit("pat", records).status_code == 200
    retracted = hub.client.delete(
        f"/v1/records/{records[0].record_id}", headers={**hub.auth("pat"), "X-Request-ID": "rt-1"}
    )
    assert retracted.status_code == 200

    submits = events_of(hub, kind="record.submit")
    retracts = [e for e in events_of(hub, kind="record.retract") if e["request_id"] == "rt-1"]
    assert len(submits) == 1
    assert orjson.loads(submits[0]["details"])["records"] == 12
    assert submits[0]["actor_username"] == "pat"
    assert len(retracts) == 1
    assert retracts[0]["agency"] == "police_cad"
    logged = str(events_of(hub))
    for row in rows:
        assert row["family_name"].strip() not in logged
        assert row["record_id"] not in logged
