"""Re-link runs: records submitted while a run works are re-linked under its model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkage.encode.keys import LinkageSecret
from linkage.match.pipeline import link_table
from linkage.records import EncodedRecord
from linkage.table import table_from_lines
from tests.api.hub import Hub, encode_rows, read_rows
from tests.api.test_linking_api import AGENCIES, _exported, _f1


@pytest.fixture
def records(fixtures_dir: Path, secret: LinkageSecret) -> dict[str, list[EncodedRecord]]:
    base = fixtures_dir / "synthetic" / "small"
    return {a: encode_rows(secret, a, read_rows(base / f"{a}.csv")) for a in AGENCIES}


def test_records_submitted_during_a_run_are_linked_under_the_new_model(
    hub: Hub,
    records: dict[str, list[EncodedRecord]],
    fixtures_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for agency in AGENCIES:
        hub.user(f"st-{agency}", "data_steward", agency)
    hub.user("reviewer", "linkage_reviewer", "program")
    hub.user("admin", "admin", "program")
    # No model yet: the first two agencies are stored as singletons.
    for agency in AGENCIES[:2]:
        assert hub.submit(f"st-{agency}", records[agency]).status_code == 200
    late = records[AGENCIES[2]]
    real_link_table = link_table

    def link_while_records_arrive(*args: Any, **kwargs: Any) -> Any:
        # The run has taken its snapshot; this agency's file arrives meanwhile.
        assert hub.submit(f"st-{AGENCIES[2]}", late).status_code == 200
        return real_link_table(*args, **kwargs)

    monkeypatch.setattr("api.hub.linking.relink.link_table", link_while_records_arrive)
    run = hub.client.post("/v1/linkage/runs", headers=hub.auth("reviewer")).json()
    hub.runs.wait()
    status = hub.client.get(f"/v1/linkage/runs/{run['id']}", headers=hub.auth("reviewer"))
    assert status.json()["status"] == "succeeded", status.json()

    truth = fixtures_dir / "synthetic" / "small" / "truth.csv"
    keys, subjects = _exported(hub)
    assert len(keys) == sum(len(r) for r in records.values())
    lines = [r.to_json() for a in AGENCIES for r in records[a]]
    batch = link_table(table_from_lines(lines))
    batch_f1 = _f1(batch.table.keys(), batch.subject_ids, truth)
    assert _f1(keys, subjects, truth) >= batch_f1 - 0.01
    # The late agency's people were linked to the others, not left alone.
    subject_of = dict(zip(keys, subjects, strict=True))
    late_subjects = {subject_of[(AGENCIES[2], r.record_id)] for r in late}
    shared = late_subjects & {s for k, s in subject_of.items() if k[0] != AGENCIES[2]}
    assert len(shared) > len(late) // 4
