from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.evaluation import PairKey, cluster_pairs_of, score_pairs
from linkage.match.incremental import BatchOutcome, link_batch, resolve
from linkage.match.index import LinkIndex, StaleIndexError
from linkage.match.pipeline import LinkResult
from linkage.match.resolve import pair_probability, score_against_index
from linkage.match.table_ops import concat_tables, take_rows
from linkage.schema import default_schema
from linkage.table import EncodedTable, table_from_lines

ANN = {
    "given_name": "Ann", "family_name": "Lee", "birth_date": "1980-03-07", "sex": "F",
    "street_address": "12 Oak Street", "city": "Larkin", "postcode": "69901",
    "phone": "360-555-0101", "ssn": "123-45-6789",
}  # fmt: skip
ZED = {"given_name": "Zed", "family_name": "Okafor", "birth_date": "1950-12-30", "sex": "M"}


def _encode(
    secret: LinkageSecret, rows: Sequence[tuple[str, Mapping[str, str]]], agency: str = "police"
) -> EncodedTable:
    encoder = RecordEncoder(default_schema(), secret, agency)
    return table_from_lines(encoder.encode(rid, values)[0].to_json() for rid, values in rows)


def _arrival_batches(table: EncodedTable, size: int) -> list[np.ndarray]:
    """Batches of ``size`` records per agency, the agencies taking turns."""
    rows = {a: np.flatnonzero(np.array(table.agencies) == a) for a in sorted(set(table.agencies))}
    longest = max(len(r) for r in rows.values())
    return [
        part[start : start + size]
        for start in range(0, longest, size)
        for part in rows.values()
        if start < len(part)
    ]


def test_incremental_linking_in_arrival_order_is_within_0_01_f1_of_batch(
    demo_table: EncodedTable, demo_link: LinkResult, demo_truth: set[PairKey]
) -> None:
    index = LinkIndex.empty(demo_table.schema_version, demo_table.key_id)
    for rows in _arrival_batches(demo_table, 50):
        index.apply(link_batch(index, take_rows(demo_table, rows), demo_link.model))
    keys = demo_table.keys()
    incremental = [index.subject_of(key) or "" for key in keys]
    batch_f1 = score_pairs(cluster_pairs_of(keys, demo_link.subject_ids), demo_truth).f1
    incremental_f1 = score_pairs(cluster_pairs_of(keys, incremental), demo_truth).f1
    assert len(index) == len(demo_table)
    assert incremental_f1 >= batch_f1 - 0.01


@pytest.fixture
def model_and_index(demo_link: LinkResult) -> tuple[LinkResult, LinkIndex]:
    table = demo_link.table
    return demo_link, LinkIndex.empty(table.schema_version, table.key_id)


def _link_and_apply(index: LinkIndex, table: EncodedTable, result: LinkResult) -> BatchOutcome:
    outcome = link_batch(index, table, result.model)
    index.apply(outcome)
    return outcome


def test_a_record_matching_a_stored_one_joins_its_subject(
    secret: LinkageSecret, model_and_index: tuple[LinkResult, LinkIndex]
) -> None:
    result, index = model_and_index
    first = _link_and_apply(index, _encode(secret, [("1", ANN), ("2", ZED)]), result)
    second = _link_and_apply(index, _encode(secret, [("9", ANN)], agency="clinic"), result)
    assert first.subject_ids[0] != first.subject_ids[1]
    assert second.subject_ids == [first.subject_ids[0]]
    assert second.match_probability[0] > 0.9
    assert sorted(index.members(first.subject_ids[0])) == [("clinic", "9"), ("police", "1")]


def test_upserting_a_stored_record_does_not_duplicate_it(
    secret: LinkageSecret, model_and_index: tuple[LinkResult, LinkIndex]
) -> None:
    result, index = model_and_index
    first = _link_and_apply(index, _encode(secret, [("1", ANN)]), result)
    again = _link_and_apply(index, _encode(secret, [("1", {**ANN, "phone": ""})]), result)
    assert len(index) == 1
    assert again.subject_ids == first.subject_ids
    assert index.members(first.subject_ids[0]) == [("police", "1")]


def test_retracted_records_are_no_longer_matched(
    secret: LinkageSecret, model_and_index: tuple[LinkResult, LinkIndex]
) -> None:
    result, index = model_and_index
    first = _link_and_apply(index, _encode(secret, [("1", ANN)]), result)
    index.remove([("police", "1")])
    later = link_batch(index, _encode(secret, [("2", ANN)]), result.model)
    assert later.subject_ids != first.subject_ids
    assert later.match_probability[0] == 0.0


@pytest.mark.parametrize("same_batch", [True, False])
def test_cannot_link_keeps_a_matching_record_apart(
    secret: LinkageSecret, model_and_index: tuple[LinkResult, LinkIndex], same_batch: bool
) -> None:
    result, index = model_and_index
    cannot = [(("police", "1"), ("police", "2"))]
    if same_batch:
        outcome = link_batch(index, _encode(secret, [("1", ANN), ("2", ANN)]), result.model,
                             cannot_link=cannot)  # fmt: skip
        assert outcome.subject_ids[0] != outcome.subject_ids[1]
    else:
        first = _link_and_apply(index, _encode(secret, [("1", ANN)]), result)
        later = link_batch(index, _encode(secret, [("2", ANN)]), result.model, cannot_link=cannot)
        assert later.subject_ids != first.subject_ids


def test_must_link_joins_records_that_do_not_match(
    secret: LinkageSecret, model_and_index: tuple[LinkResult, LinkIndex]
) -> None:
    result, index = model_and_index
    first = _link_and_apply(index, _encode(secret, [("1", ANN)]), result)
    must = [(("police", "1"), ("police", "2"))]
    later = link_batch(index, _encode(secret, [("2", ZED)]), result.model, must_link=must)
    assert later.subject_ids == first.subject_ids


def test_a_record_matching_two_subjects_merges_them_with_an_event(
    secret: LinkageSecret, demo_link: LinkResult
) -> None:
    stored = _encode(secret, [("1", ANN), ("2", {**ANN, "phone": ""})])
    index = LinkIndex.from_table(stored, ["S-a", "S-b"])
    outcome = link_batch(index, _encode(secret, [("3", ANN)], agency="clinic"), demo_link.model)
    assert [(e.kind, e.previous_ids) for e in outcome.events] == [("merge", ("S-a", "S-b"))]
    survivor = outcome.subject_ids[0]
    index.apply(outcome)
    assert len(index.members(survivor)) == 3
    assert index.subject_ids() == {survivor}


def test_link_batch_leaves_the_index_unchanged_until_applied(
    secret: LinkageSecret, model_and_index: tuple[LinkResult, LinkIndex]
) -> None:
    result, index = model_and_index
    outcome = link_batch(index, _encode(secret, [("1", ANN)]), result.model)
    assert len(index) == 0
    index.remove([])  # any mutation makes the outcome stale
    with pytest.raises(StaleIndexError):
        index.apply(outcome)


def test_resolve_ranks_the_true_subject_first_for_known_people(
    demo_table: EncodedTable, demo_link: LinkResult
) -> None:
    held = np.arange(0, len(demo_table), 25)
    kept = np.setdiff1d(np.arange(len(demo_table)), held)
    subjects = [demo_link.subject_ids[i] for i in kept.tolist()]
    index = LinkIndex.from_table(take_rows(demo_table, kept), subjects)
    known = [row for row in held.tolist() if index.members(demo_link.subject_ids[row])]
    hits = 0
    for row in known:
        ranked = resolve(index, take_rows(demo_table, np.array([row])), demo_link.model)
        assert len({c.subject_id for c in ranked}) == len(ranked)
        assert [c.match_probability for c in ranked] == sorted(
            (c.match_probability for c in ranked), reverse=True
        )
        hits += bool(ranked) and ranked[0].subject_id == demo_link.subject_ids[row]
    assert len(known) > 100
    assert hits >= 0.95 * len(known)


def test_resolve_reports_zones_and_hides_non_matches_by_default(
    secret: LinkageSecret, model_and_index: tuple[LinkResult, LinkIndex]
) -> None:
    result, index = model_and_index
    stored = _link_and_apply(index, _encode(secret, [("1", ANN), ("2", ZED)]), result)
    query = _encode(secret, [("q", {**ANN, "ssn": "", "phone": ""})], agency="responder")
    ranked = resolve(index, query, result.model)
    assert [(c.subject_id, c.zone) for c in ranked] == [(stored.subject_ids[0], "match")]
    stranger = _encode(secret, [("q", {**ZED, "given_name": "Ann", "family_name": "Lee"})], "r")
    assert resolve(index, stranger, result.model) == []
    everyone = resolve(index, stranger, result.model, min_probability=0.0)
    assert {(c.subject_id, c.zone) for c in everyone} == {
        (s, "non_match") for s in stored.subject_ids
    }


def test_scores_against_the_index_equal_scores_over_copied_rows(
    demo_table: EncodedTable, demo_link: LinkResult
) -> None:
    stored_rows = np.arange(0, len(demo_table), 2)
    index = LinkIndex.from_table(
        take_rows(demo_table, stored_rows), [f"S-{i}" for i in range(len(stored_rows))]
    )
    new = take_rows(demo_table, np.arange(1, len(demo_table), 2)[:200])
    rows, stored = index.candidates(new)
    scored = score_against_index(index, new, demo_link.model, (rows[:0], rows[:0], rows, stored))
    copied = concat_tables(new, index.take(stored))
    expected = pair_probability(demo_link.model, copied, rows, len(new) + np.arange(len(stored)))
    assert len(rows) > 100
    assert scored.right.tolist() == (stored + len(new)).tolist()
    np.testing.assert_array_equal(scored.probability, expected)


def test_each_new_record_merges_only_the_subjects_it_matches(
    secret: LinkageSecret, demo_link: LinkResult
) -> None:
    ann_too = {**ANN, "phone": ""}
    stored = _encode(secret, [("1", ANN), ("2", ann_too), ("3", ZED)])
    index = LinkIndex.from_table(stored, ["S-a", "S-b", "S-z"])
    batch = _encode(secret, [("4", ANN), ("5", ZED)], agency="clinic")
    alone = link_batch(index, take_rows(batch, np.array([1])), demo_link.model)
    together = link_batch(index, batch, demo_link.model)
    assert alone.subject_ids == ["S-z"]
    assert together.subject_ids[1] == "S-z"
    assert [e.previous_ids for e in together.events] == [("S-a", "S-b")]
