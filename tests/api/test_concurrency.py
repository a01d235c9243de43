"""Two server processes submit overlapping batches for the same people at once.

Each process has its own app and in-memory index on one PostgreSQL database.
The store must end with every record exactly once, each process's index must
agree with the database, and the clustering must be as good as a batch run.
"""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest
from sqlalchemy import text

from api.db import session_scope
from api.hub.linking.models import import_model
from linkage.encode.keys import LinkageSecret
from linkage.evaluation import cluster_pairs_of, read_truth_csv, score_pairs
from linkage.match.pipeline import link_table
from linkage.table import table_from_lines
from tests.api.concurrent_submitter import submit_batches
from tests.api.hub import encode_rows, make_settings, ndjson, open_hub, read_rows

pytestmark = pytest.mark.postgres


def test_two_processes_with_overlapping_batches_lose_and_duplicate_nothing(
    postgres_database_url: str, fixtures_dir: Path, secret: LinkageSecret
) -> None:
    pg_url = postgres_database_url
    base = fixtures_dir / "synthetic" / "small"
    records = encode_rows(secret, "police_cad", read_rows(base / "police_cad.csv"))
    batch = link_table(table_from_lines([r.to_json() for r in records]))
    tokens = {}
    for hub in open_hub(make_settings(pg_url)):
        with session_scope(hub.engine) as session:
            import_model(session, batch.model)
        tokens = {name: hub.user(name, "data_steward", "police_cad") for name in ("a", "b")}
    # Both processes send every record, in different orders and batchings.
    order_a, order_b = list(records), list(records)
    random.Random(1).shuffle(order_a)
    random.Random(2).shuffle(order_b)
    batches_a = [ndjson(order_a[i : i + 15]) for i in range(0, len(order_a), 15)]
    batches_b = [ndjson(order_b[i : i + 25]) for i in range(0, len(order_b), 25)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(2)
    with context.Pool(2) as pool:
        views = pool.starmap(
            submit_batches,
            [(pg_url, tokens["a"], batches_a, barrier), (pg_url, tokens["b"], batches_b, barrier)],
        )
    for hub in open_hub(make_settings(pg_url)):
        with hub.engine.connect() as connection:
            stored = connection.execute(
                text("SELECT agency, record_id, subject_id FROM stored_record WHERE NOT retracted")
            ).all()
            duplicated_context = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT record_pk, category FROM record_context "
                    "GROUP BY record_pk, category HAVING count(*) > 1) d"
                )
            ).scalar_one()
    assert len(stored) == len(records) == len({(a, r) for a, r, _ in stored})
    assert duplicated_context == 0
    in_db = {(a, r): s for a, r, s in stored}
    assert views[0] == in_db
    assert views[1] == in_db
    truth = read_truth_csv(base / "truth.csv")
    police_truth = {p for p in truth if p[0][0] == p[1][0] == "police_cad"}
    keys = list(in_db)
    f1 = score_pairs(cluster_pairs_of(keys, [in_db[k] for k in keys]), police_truth).f1
    batch_f1 = score_pairs(cluster_pairs_of(batch.table.keys(), batch.subject_ids), police_truth).f1
    assert f1 >= batch_f1 - 0.01, (f1, batch_f1)
