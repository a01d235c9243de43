"""Incremental linking, re-link runs, review decisions and resolve, through HTTP.

The hub scores with the model a batch ``link_table`` run trains on the same
encodings (imported as the active model), so incremental and batch clusterings
can be compared pair by pair against the generator's truth.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.db import session_scope
from api.hub.app import create_app
from api.hub.linking.models import import_model
from linkage.encode.keys import LinkageSecret
from linkage.evaluation import cluster_pairs_of, read_truth_csv, score_pairs
from linkage.match.pipeline import LinkResult, link_table
from linkage.records import EncodedRecord
from linkage.table import table_from_lines
from tests.api.hub import Hub, encode_rows, read_rows

AGENCIES = ("police_cad", "behavioral_health", "homeless_services")


@pytest.fixture(scope="module")
def small_records(fixtures_dir: Path, secret: LinkageSecret) -> dict[str, list[EncodedRecord]]:
    """Each small-fixture agency's records, encoded with context."""
    base = fixtures_dir / "synthetic" / "small"
    return {a: encode_rows(secret, a, read_rows(base / f"{a}.csv")) for a in AGENCIES}


@pytest.fixture(scope="module")
def batch(small_records: dict[str, list[EncodedRecord]]) -> LinkResult:
    """The batch run over the same records, in file order."""
    lines = [r.to_json() for agency in AGENCIES for r in small_records[agency]]
    return link_table(table_from_lines(lines))


@pytest.fixture
def linked(hub: Hub, batch: LinkResult) -> Hub:
    """A hub with the batch model active and one steward per agency."""
    with session_scope(hub.engine) as session:
        for agency in AGENCIES:
            hub.agency(agency)
        import_model(session, batch.model)
    for agency in AGENCIES:
        hub.user(f"st-{agency}", "data_steward", agency)
    hub.user("reviewer", "linkage_reviewer", "program")
    hub.user("medic", "ems_medic", "ems")
    hub.user("admin", "admin", "program")
    hub.linking.sync()
    return hub


def _exported(hub: Hub) -> tuple[list[tuple[str, str]], list[str]]:
    text = hub.client.get("/v1/admin/clusters", headers=hub.auth("admin")).text
    rows = list(csv.DictReader(io.StringIO(text)))
    return [(r["agency"], r["record_id"]) for r in rows], [r["subject_id"] for r in rows]


def _f1(keys: list[tuple[str, str]], subjects: list[str], truth_file: Path) -> float:
    return score_pairs(cluster_pairs_of(keys, subjects), read_truth_csv(truth_file)).f1


def test_record_by_record_submission_ends_within_001_of_batch_f1_and_equal_after_a_run(
    linked: Hub,
    small_records: dict[str, list[EncodedRecord]],
    batch: LinkResult,
    fixtures_dir: Path,
) -> None:
    truth = fixtures_dir / "synthetic" / "small" / "truth.csv"
    for agency in AGENCIES:
        for record in small_records[agency]:
            assert linked.submit(f"st-{agency}", [record]).status_code == 200
    batch_f1 = _f1(batch.table.keys(), batch.subject_ids, truth)
    incremental_f1 = _f1(*_exported(linked), truth)
    assert abs(incremental_f1 - batch_f1) <= 0.01, (incremental_f1, batch_f1)

    run = linked.client.post("/v1/linkage/runs", headers=linked.auth("reviewer")).json()
    linked.runs.wait()
    status = linked.client.get(f"/v1/linkage/runs/{run['id']}", headers=linked.auth("reviewer"))
    assert status.json()["status"] == "succeeded", status.json()
    keys, subjects = _exported(linked)
    assert _f1(keys, subjects, truth) == pytest.approx(batch_f1, abs=1e-12)


def test_batches_link_to_each_other_and_to_the_store(
    linked: Hub, small_records: dict[str, list[EncodedRecord]], batch: LinkResult
) -> None:
    for agency in AGENCIES:
        assert linked.submit(f"st-{agency}", small_records[agency]).status_code == 200
    keys, subjects = _exported(linked)
    assert len(keys) == len(batch.table)
    assert len(set(subjects)) < len(keys)  # cross-agency links were made
    assert len(set(subjects)) == pytest.approx(len(set(batch.subject_ids)), rel=0.05)


def _query(record: EncodedRecord) -> bytes:
    query = EncodedRecord(
        record.schema_version, record.key_id, "ems", "query", record.tokens, record.filters
    )
    return query.to_json()


def test_resolve_ranks_the_persons_subject_first_and_shows_only_ids_and_scores(
    linked: Hub, small_records: dict[str, list[EncodedRecord]]
) -> None:
    for agency in AGENCIES:
        linked.submit(f"st-{agency}", small_records[agency])
    keys, subjects = _exported(linked)
    subject_of = dict(zip(keys, subjects, strict=True))
    hits = 0
    sample = small_records["police_cad"][:30]
    for record in sample:
        response = linked.client.post(
            "/v1/subjects/resolve", content=_query(record), headers=linked.auth("medic")
        )
        assert response.status_code == 200, response.text
        candidates = response.json()["candidates"]
        assert all(set(c) == {"subject_id", "match_probability", "zone"} for c in candidates)
        probabilities = [c["match_probability"] for c in candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        hits += (
            bool(candidates)
            and candidates[0]["subject_id"] == subject_of[("police_cad", record.record_id)]
        )
    assert hits >= 0.95 * len(sample)


def test_resolve_refuses_context_and_needs_a_responder(
    linked: Hub, small_records: dict[str, list[EncodedRecord]]
) -> None:
    linked.submit("st-police_cad", small_records["police_cad"][:5])
    record = small_records["police_cad"][0]
    with_context = EncodedRecord(
        record.schema_version, record.key_id, "ems", "q", record.tokens, record.filters,
        {"safety_flags": {"weapons": "knife"}},
    )  # fmt: skip
    response = linked.client.post(
        "/v1/subjects/resolve", content=with_context.to_json(), headers=linked.auth("medic")
    )
    assert response.status_code == 422
    forbidden = linked.client.post(
        "/v1/subjects/resolve", content=_query(record), headers=linked.auth("st-police_cad")
    )
    assert forbidden.status_code == 403


def test_subject_view_discloses_nothing_until_a_policy_is_published(
    linked: Hub, small_records: dict[str, list[EncodedRecord]]
) -> None:
    for agency in AGENCIES:
        linked.submit(f"st-{agency}", small_records[agency])
    _keys, subjects = _exported(linked)
    shared = next(s for s in subjects if subjects.count(s) > 1)
    view = linked.client.get(
        f"/v1/subjects/{shared}?purpose=crisis_response", headers=linked.auth("medic")
    )
    assert view.status_code == 200
    assert view.json()["policy_version"] == "v0"
    # Nothing disclosed, so no agency is named (not even where the subject has records).
    assert view.json()["agencies"] == []
    members = linked.client.get(f"/v1/subjects/{shared}/records", headers=linked.auth("reviewer"))
    assert len(members.json()["records"]) == subjects.count(shared)
    assert set(members.json()["records"][0]) == {"agency", "record_id", "match_probability"}
    bad = linked.client.get(
        f"/v1/subjects/{shared}?purpose=curiosity", headers=linked.auth("medic")
    )
    assert bad.status_code == 422
    missing = linked.client.get(
        "/v1/subjects/S-0000?purpose=treatment", headers=linked.auth("medic")
    )
    # Not a 404: an unknown id is answered as a subject showing nothing (and audited).
    assert missing.status_code == 200
    assert missing.json()["agencies"] == []


def test_reviewer_decisions_become_constraints_that_both_paths_honour(
    linked: Hub, small_records: dict[str, list[EncodedRecord]]
) -> None:
    for agency in AGENCIES:
        linked.submit(f"st-{agency}", small_records[agency])
    queue = linked.client.get("/v1/linkage/review", headers=linked.auth("reviewer")).json()
    assert queue["items"], "the small fixture has possible matches to review"
    item = queue["items"][0]
    left = (item["left"]["agency"], item["left"]["record_id"])
    right = (item["right"]["agency"], item["right"]["record_id"])
    decided = linked.client.post(
        f"/v1/linkage/review/{item['id']}",
        json={"decision": "same"},
        headers=linked.auth("reviewer"),
    )
    assert decided.status_code == 200, decided.text
    subject_of = dict(zip(*_exported(linked), strict=True))
    assert subject_of[left] == subject_of[right]
    again = linked.client.post(
        f"/v1/linkage/review/{item['id']}",
        json={"decision": "same"},
        headers=linked.auth("reviewer"),
    )
    assert again.status_code == 409
    linked.client.post("/v1/linkage/runs", headers=linked.auth("reviewer"))
    linked.runs.wait()
    subject_of = dict(zip(*_exported(linked), strict=True))
    assert subject_of[left] == subject_of[right]


def test_resolve_runs_on_the_event_loop_on_postgresql_only_with_a_statement_timeout(
    linked: Hub,
) -> None:
    resolver = linked.client.app.state.services.resolver  # type: ignore[attr-defined]

    assert (resolver is not None) == (linked.engine.dialect.name == "postgresql")
    if resolver is not None:  # bounded statements, on the app's own schema
        with resolver.engine.connect() as mine, linked.engine.connect() as apps:
            show = "SHOW statement_timeout"
            assert mine.exec_driver_sql(show).scalar_one() == "1s"
            assert apps.exec_driver_sql(show).scalar_one() != "1s"
            path = "SHOW search_path"
            assert (
                mine.exec_driver_sql(path).scalar_one() == apps.exec_driver_sql(path).scalar_one()
            )


def test_resolve_waits_out_a_writer_holding_the_index(
    linked: Hub, small_records: dict[str, list[EncodedRecord]]
) -> None:
    linked.submit("st-police_cad", small_records["police_cad"][:20])
    query = _query(small_records["police_cad"][3])
    expected = linked.client.post(
        "/v1/subjects/resolve", content=query, headers=linked.auth("medic")
    ).json()
    service = linked.client.app.state.services.linking  # type: ignore[attr-defined]
    held, release = threading.Event(), threading.Event()

    def writer() -> None:  # as a submission in this process holds it while linking
        with service._lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    response = linked.client.post(
        "/v1/subjects/resolve", content=query, headers=linked.auth("medic")
    )
    waited = time.monotonic() - started
    thread.join()

    assert response.json() == expected
    assert waited >= 0.25  # it ranked only once the writer let go


def test_resolve_sees_records_another_process_linked(
    linked: Hub, small_records: dict[str, list[EncodedRecord]]
) -> None:
    records = small_records["police_cad"][:10]
    query = _query(records[0])
    before = linked.client.post("/v1/subjects/resolve", content=query, headers=linked.auth("medic"))
    other = create_app(linked.settings)  # a second server process on the same store
    with TestClient(other) as client:
        submitted = client.post(
            "/v1/records",
            content=b"".join(r.to_json() + b"\n" for r in records),
            headers={**linked.auth("st-police_cad"), "Content-Type": "application/x-ndjson"},
        )
        assert submitted.status_code == 200, submitted.text
    after = linked.client.post("/v1/subjects/resolve", content=query, headers=linked.auth("medic"))

    assert before.json()["candidates"] == []
    subject = submitted.json()["records"][0]["subject_id"]
    assert after.json()["candidates"][0]["subject_id"] == subject
