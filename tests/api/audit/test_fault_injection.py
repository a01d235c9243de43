"""No log, no act: when the audit event cannot be written, the act fails and discloses nothing.

A trigger on ``audit_event`` makes every insert fail (as a full disk or a
revoked grant would); acts that write events must then answer 503, leave no
trace of themselves, and put nothing of what they would have shown in the body.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from api.db import session_scope
from api.hub.linking.models import import_model
from linkage.encode.keys import LinkageSecret
from linkage.match.pipeline import link_table
from linkage.records import EncodedRecord
from linkage.table import table_from_lines
from tests.api.audit.helpers import quiet_hub
from tests.api.hub import Hub, encode_rows, read_rows


def _break_the_log(engine: Engine) -> None:
    with engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(
                text(
                    "CREATE FUNCTION audit_fail() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'could not extend file: no space left'; END $$"
                )
            )
            db.execute(
                text(
                    "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_event "
                    "FOR EACH ROW EXECUTE FUNCTION audit_fail()"
                )
            )
        else:
            db.execute(
                text(
                    "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_event "
                    "BEGIN SELECT RAISE(ABORT, 'no space left'); END"
                )
            )


@pytest.fixture
def hub(database_url: str, fixtures_dir: Path, secret: LinkageSecret) -> Iterator[Hub]:
    """A hub with users and three stored records, whose audit log then stops accepting writes."""
    for hub in quiet_hub(database_url):
        hub.user("admin", "admin", "program")
        hub.user("medic", "ems_medic", "ems")
        hub.user("reviewer", "linkage_reviewer", "program")
        hub.user("steward", "data_steward", "police_cad")
        rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:3]
        response = hub.submit("steward", encode_rows(secret, "police_cad", rows))
        assert response.status_code == 200, response.text
        hub.tokens["subject"] = response.json()["records"][0]["subject_id"]
        _break_the_log(hub.engine)
        yield hub


@pytest.fixture
def resolvable(database_url: str, fixtures_dir: Path, secret: LinkageSecret) -> Iterator[Hub]:
    """A hub with a model and stored records, whose audit log then stops accepting writes."""
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")
    records = encode_rows(secret, "police_cad", rows)
    model = link_table(table_from_lines([r.to_json() for r in records])).model
    for hub in quiet_hub(database_url):
        hub.agency("police_cad")
        with session_scope(hub.engine) as session:
            import_model(session, model)
        hub.user("medic", "ems_medic", "ems")
        hub.user("steward", "data_steward", "police_cad")
        response = hub.submit("steward", records)
        assert response.status_code == 200, response.text
        query = EncodedRecord(records[0].schema_version, records[0].key_id, "ems", "query",
                              records[0].tokens, records[0].filters)  # fmt: skip
        hub.tokens["query"] = query.to_json().decode()
        probe = hub.client.post(
            "/v1/subjects/resolve", content=query.to_json(), headers=hub.auth("medic")
        )
        assert probe.json()["candidates"], "the query must match before the outage"
        hub.tokens["subject"] = probe.json()["candidates"][0]["subject_id"]
        _break_the_log(hub.engine)
        yield hub


def _count(hub: Hub, sql: str) -> int:
    with hub.engine.connect() as db:
        value: int = db.execute(text(sql)).scalar_one()
        return value


def test_a_user_is_not_created_without_its_event(hub: Hub) -> None:
    body = {"username": "eve", "role": "auditor", "agency": "program"}

    response = hub.client.post("/v1/admin/users", json=body, headers=hub.auth("admin"))

    assert response.status_code == 503
    assert _count(hub, "SELECT count(*) FROM app_user WHERE username = 'eve'") == 0


def test_a_token_is_neither_shown_nor_stored_without_its_event(hub: Hub) -> None:
    before = _count(hub, "SELECT count(*) FROM api_token")

    response = hub.client.post("/v1/admin/users/medic/tokens", headers=hub.auth("admin"))

    assert response.status_code == 503
    assert "cw_" not in response.text
    assert _count(hub, "SELECT count(*) FROM api_token") == before


def test_a_subject_view_discloses_nothing_without_its_event(hub: Hub) -> None:
    subject = hub.tokens["subject"]

    response = hub.client.get(
        f"/v1/subjects/{subject}", params={"purpose": "crisis_response"}, headers=hub.auth("medic")
    )

    assert response.status_code == 503
    assert set(response.json()) == {"detail"}
    assert "police_cad" not in response.text


def test_a_member_list_discloses_nothing_without_its_event(hub: Hub) -> None:
    subject = hub.tokens["subject"]

    response = hub.client.get(f"/v1/subjects/{subject}/records", headers=hub.auth("reviewer"))

    assert response.status_code == 503
    assert "police_cad" not in response.text


def test_a_token_revocation_is_undone_without_its_event(hub: Hub) -> None:
    response = hub.client.delete("/v1/admin/users/medic/tokens", headers=hub.auth("admin"))

    assert response.status_code == 503
    assert _count(hub, "SELECT count(*) FROM api_token WHERE revoked_at IS NOT NULL") == 0


def test_the_auditor_reads_nothing_without_the_access_event(hub: Hub) -> None:
    with hub.engine.begin() as db:  # an auditor made before the outage
        db.execute(text("UPDATE app_user SET role = 'auditor' WHERE username = 'reviewer'"))

    response = hub.client.get("/v1/audit/events", headers=hub.auth("reviewer"))

    assert response.status_code == 503
    assert set(response.json()) == {"detail"}


def test_a_resolve_returns_no_candidate_without_its_event(resolvable: Hub) -> None:
    response = resolvable.client.post(
        "/v1/subjects/resolve",
        content=resolvable.tokens["query"].encode(),
        headers=resolvable.auth("medic"),
    )

    assert response.status_code == 503
    assert set(response.json()) == {"detail"}
    assert resolvable.tokens["subject"] not in response.text
