"""A hub with few records resolves from the first one, with the packaged prior model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from api.db import session_scope
from api.hub.linking.models import import_model
from linkage.encode.keys import LinkageSecret
from linkage.match.pipeline import link_table
from linkage.match.prior import prior_model
from linkage.schema import default_schema
from linkage.table import table_from_records
from tests.api.hub import Hub, encode_rows, read_rows
from tools.train_prior import TARGET, build_prior


def _records(fixtures_dir: Path, secret: LinkageSecret, n: int) -> list:  # type: ignore[type-arg]
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:n]
    return encode_rows(secret, "police_cad", rows)


def test_a_fresh_hub_resolves_its_first_records_with_the_prior(
    hub: Hub, fixtures_dir: Path, secret: LinkageSecret
) -> None:
    records = _records(fixtures_dir, secret, 5)
    hub.user("steward", "data_steward", "police_cad")
    hub.user("officer", "police_officer", "police_cad")
    submitted = hub.submit("steward", records)
    assert submitted.status_code == 200, submitted.text
    subject_of = {r["record_id"]: r["subject_id"] for r in submitted.json()["records"]}

    for record in records:
        query = dataclasses.replace(record, record_id="query", context={})  # not the stored one
        response = hub.client.post(
            "/v1/subjects/resolve", content=query.to_json(), headers=hub.auth("officer")
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model"] == "prior"
        assert body["candidates"][0]["subject_id"] == subject_of[record.record_id]
        assert body["candidates"][0]["zone"] == "match"


def test_once_the_hub_has_its_own_model_it_says_so(
    hub: Hub, fixtures_dir: Path, secret: LinkageSecret
) -> None:
    records = _records(fixtures_dir, secret, 200)
    hub.user("steward", "data_steward", "police_cad")
    hub.user("officer", "police_officer", "police_cad")
    with session_scope(hub.engine) as session:
        import_model(session, link_table(table_from_records(records)).model)
    hub.linking.load()
    assert hub.submit("steward", records[:10]).status_code == 200

    query = dataclasses.replace(records[0], record_id="query", context={})
    response = hub.client.post(
        "/v1/subjects/resolve", content=query.to_json(), headers=hub.auth("officer")
    )

    assert response.json()["model"] == "trained"


def test_the_prior_carries_no_keyed_value_and_takes_the_hubs_key() -> None:
    model = prior_model(default_schema().schema_version, "k-hub")

    assert model.key_id == "k-hub"
    assert model.tf == {}
    assert all(0 < m[1] <= 1 for m in model.m)  # an exact agreement happens among matches


@pytest.mark.slow
def test_the_packaged_prior_is_what_the_tool_builds() -> None:
    assert TARGET.read_bytes() == build_prior(), "rebuild it: python -m tools.train_prior"
