"""Submission and retraction through ``/v1/records`` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from linkage.encode.keys import LinkageSecret
from linkage.records import EncodedRecord
from tests.api.hub import Hub, encode_rows, ndjson, read_rows


@pytest.fixture
def police(fixtures_dir: Path, secret: LinkageSecret) -> list[EncodedRecord]:
    """The first 40 police records of the small fixture, with their context."""
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:40]
    return encode_rows(secret, "police_cad", rows)


@pytest.fixture
def steward(hub: Hub) -> str:
    """A police data steward."""
    hub.user("steward", "data_steward", "police_cad")
    return "steward"


def _count(hub: Hub, table: str) -> int:
    with hub.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def test_accepted_batch_is_stored_with_a_subject_per_record(
    hub: Hub, steward: str, police: list[EncodedRecord]
) -> None:
    response = hub.submit(steward, police)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["created"], body["updated"]) == (40, 40, 0)
    assert {r["record_id"] for r in body["records"]} == {r.record_id for r in police}
    assert all(r["subject_id"].startswith("S-") for r in body["records"])
    assert _count(hub, "stored_record") == 40


def test_resubmitting_a_batch_updates_in_place(
    hub: Hub, steward: str, police: list[EncodedRecord]
) -> None:
    hub.submit(steward, police)
    response = hub.submit(steward, police[:10])
    assert (response.json()["created"], response.json()["updated"]) == (0, 10)
    assert _count(hub, "stored_record") == 40
    with hub.engine.connect() as connection:
        per_record = connection.execute(
            text(
                "SELECT count(*) FROM record_context "
                "GROUP BY record_pk, category HAVING count(*) > 1"
            )
        ).all()
    assert per_record == []


def test_refused_batch_stores_nothing_and_names_each_bad_line(
    hub: Hub, steward: str, police: list[EncodedRecord]
) -> None:
    good = ndjson(police[:5])
    bad_lines = [
        b'{"schema_version": "canonical/2", "key_id": "k-x", "agency": "police_cad"}\n',
        b"not json\n",
    ]
    body = good + bad_lines[0] + good.splitlines(keepends=True)[0] + bad_lines[1]
    response = hub.client.post(
        "/v1/records",
        content=body,
        headers={**hub.auth(steward), "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {p["line"] for p in problems} >= {6, 8}
    assert _count(hub, "stored_record") == 0


def test_plaintext_where_an_encoding_belongs_is_refused_without_echoing_it(
    hub: Hub, steward: str, police: list[EncodedRecord]
) -> None:
    record = police[0]
    record.tokens["family_name.exact"] = "Smith"
    response = hub.submit(steward, [record])
    assert response.status_code == 422
    assert "Smith" not in response.text
    assert _count(hub, "stored_record") == 0


def test_records_of_another_agency_are_refused(
    hub: Hub, steward: str, fixtures_dir: Path, secret: LinkageSecret
) -> None:
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "homeless_services.csv")[:3]
    response = hub.submit(steward, encode_rows(secret, "homeless_services", rows))
    assert response.status_code == 422
    assert {p["reason"] for p in response.json()["problems"]} == {"wrong_agency"}


@pytest.mark.parametrize(
    ("headers", "extra", "status"),
    [
        pytest.param({"Content-Type": "application/json"}, 0, 415, id="wrong-content-type"),
        pytest.param({"Content-Type": "application/x-ndjson"}, 1, 413, id="oversized-body"),
        # The body limit holds for every route and comes first: an oversized body
        # is refused whatever it claims to be.
        pytest.param({"Content-Type": "application/json"}, 1, 413, id="oversized-wrong-type"),
    ],
)
def test_bad_requests_are_refused_before_validation(
    hub: Hub, steward: str, headers: dict[str, str], extra: int, status: int
) -> None:
    body = b"x" * (hub.settings.max_body_bytes * extra + 1)
    response = hub.client.post(
        "/v1/records", content=body, headers={**hub.auth(steward), **headers}
    )
    assert response.status_code == status


def test_only_data_stewards_submit(hub: Hub, police: list[EncodedRecord]) -> None:
    hub.user("officer", "police_officer", "police_cad")
    assert hub.submit("officer", police).status_code == 403


def test_retraction_removes_the_record_and_its_context(
    hub: Hub, steward: str, police: list[EncodedRecord]
) -> None:
    hub.submit(steward, police)
    record_id = police[0].record_id
    response = hub.client.delete(f"/v1/records/{record_id}", headers=hub.auth(steward))
    assert response.status_code == 200
    again = hub.client.delete(f"/v1/records/{record_id}", headers=hub.auth(steward))
    assert again.status_code == 404
    with hub.engine.connect() as connection:
        contexts = connection.execute(
            text(
                "SELECT count(*) FROM record_context c JOIN stored_record r ON r.id = c.record_pk "
                "WHERE r.record_id = :rid"
            ),
            {"rid": record_id},
        ).scalar_one()
    assert contexts == 0
    exported = hub.client.get("/v1/admin/clusters", headers=_admin(hub)).text
    assert record_id not in exported


def _admin(hub: Hub) -> dict[str, str]:
    if "admin" not in hub.tokens:
        hub.user("admin", "admin", "program")
    return hub.auth("admin")


def test_a_database_dump_reveals_no_context_value(
    hub: Hub, steward: str, police: list[EncodedRecord]
) -> None:
    values = {v for r in police for fields in r.context.values() for v in fields.values()}
    values = {v for v in values if len(v) >= 6}
    assert values, "the fixture must carry context to make this test meaningful"
    hub.submit(steward, police)
    dump = _dump(hub)
    leaked = [v for v in values if v.encode() in dump]
    assert leaked == []


def _dump(hub: Hub) -> bytes:
    chunks: list[bytes] = []
    with hub.engine.connect() as connection:
        for table in ("stored_record", "record_context", "subject_event", "review_item"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                chunks.extend(_as_bytes(v) for v in row)
    return b"\x00".join(chunks)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    return str(value).encode()


def test_a_failure_halfway_through_a_batch_leaves_the_store_as_it_was(
    hub: Hub, steward: str, police: list[EncodedRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.submit(steward, police[:20])
    before = _dump(hub)
    index_size = len(hub.linking.index)

    def explode(*_args: Any, **_kwargs: Any) -> int:
        raise RuntimeError("injected failure after the records were written")

    # Records and context are already inserted when review items are written.
    monkeypatch.setattr("api.hub.linking.review.queue_review", explode)
    failed = hub.submit(steward, police)
    assert failed.status_code == 500  # a generic answer: the failure's text stays in the hub
    assert "injected" not in failed.text
    assert _dump(hub) == before
    assert len(hub.linking.index) == index_size
    monkeypatch.undo()
    assert hub.submit(steward, police).status_code == 200
    assert _count(hub, "stored_record") == 40
