from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.errors import EncodedDataError
from linkage.match import index as index_module
from linkage.match.blocking import BlockingRule, candidate_pairs
from linkage.match.index import LinkIndex
from linkage.match.table_ops import concat_tables, take_rows
from linkage.row_codec import BLOB_FILTERS, BLOB_MULTI, BLOB_TOKENS, row_blobs, table_from_blobs
from linkage.schema import FIELD_TOKENS, default_schema
from linkage.table import EncodedTable, table_from_lines

from .helpers import table_of

NAME_RULE = (BlockingRule(("given_name.phonetic", "family_name.phonetic")),)


def _encode(secret: LinkageSecret, rows: Sequence[Mapping[str, str]], agency: str) -> EncodedTable:
    encoder = RecordEncoder(default_schema(), secret, agency)
    lines = [encoder.encode(row["record_id"], row)[0].to_json() for row in rows]
    return table_from_lines(lines)


def _pairs(new: np.ndarray, stored: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(new.tolist(), stored.tolist(), strict=True))


def _cross_batch_pairs(
    stored: EncodedTable, new: EncodedTable, rules: tuple[BlockingRule, ...], max_block: int
) -> set[tuple[int, int]]:
    """(new row, stored row) candidates of a batch run over both tables together."""
    left, right, _ = candidate_pairs(concat_tables(stored, new), rules, max_block=max_block)
    n = len(stored)
    cross = (left < n) & (right >= n)
    return _pairs(right[cross] - n, left[cross])


def test_candidates_agree_with_batch_blocking_on_the_demo_data(demo_table: EncodedTable) -> None:
    split = len(demo_table) - 500
    stored = take_rows(demo_table, np.arange(split))
    new = take_rows(demo_table, np.arange(split, len(demo_table)))
    index = LinkIndex.from_table(stored, ["s"] * len(stored))
    found = _pairs(*index.candidates(new))
    expected = _cross_batch_pairs(stored, new, index.rules, 100)
    assert len(found & expected) >= 0.99 * len(expected)
    assert len(found - expected) <= 0.01 * len(expected)


def test_hot_blocks_are_refined_by_birth_year_like_the_batch() -> None:
    years = ["1980", "1980", "1990", "1990", "1990"]
    stored = table_of(
        [{"given_name": "John", "family_name": "Smith", "birth_date": f"{y}-01-0{i + 1}"}
         for i, y in enumerate(years)]
    )  # fmt: skip
    new = table_of([{"record_id": "new", "given_name": "John", "family_name": "Smith",
                     "birth_date": "1980-05-05"}])  # fmt: skip
    index = LinkIndex(stored.schema_version, stored.key_id, NAME_RULE, max_block=3)
    index.upsert(stored, ["s"] * len(stored))
    assert _pairs(*index.candidates(new)) == {(0, 0), (0, 1)}
    assert _pairs(*index.candidates(new)) == _cross_batch_pairs(stored, new, NAME_RULE, 3)


def test_hot_blocks_of_broad_rules_are_skipped() -> None:
    rule = (BlockingRule(("postcode.exact",), broad=True),)
    stored = table_of([{"postcode": "69901"} for _ in range(20)])
    new = table_of([{"record_id": "new", "postcode": "69901"}])
    index = LinkIndex(stored.schema_version, stored.key_id, rule)
    index.upsert(take_rows(stored, np.arange(19)), ["s"] * 19)
    assert len(index.candidates(new)[0]) == 19
    index.upsert(take_rows(stored, np.arange(19, 20)), ["s"])
    assert len(index.candidates(new)[0]) == 0


def test_upsert_replaces_a_stored_record_and_its_keys() -> None:
    old = table_of([{"record_id": "r1", "given_name": "Ann", "family_name": "Lee"}])
    new = table_of([{"record_id": "r1", "given_name": "Bob", "family_name": "Okafor"}])
    probe = table_of([{"record_id": "probe", "given_name": "Ann", "family_name": "Lee"}])
    index = LinkIndex.from_table(old, ["S-1"], NAME_RULE)
    index.upsert(new, ["S-2"])
    assert len(index) == 1
    assert index.subject_of(("a", "r1")) == "S-2"
    assert index.members("S-1") == []
    assert len(index.candidates(probe)[0]) == 0


def test_a_stored_record_is_not_a_candidate_of_its_own_update() -> None:
    rows = [{"record_id": "r1", "given_name": "Ann", "family_name": "Lee"}]
    index = LinkIndex.from_table(table_of(rows), ["S-1"], NAME_RULE)
    assert len(index.candidates(table_of(rows))[0]) == 0


def test_remove_retracts_records_from_subjects_and_lookups() -> None:
    rows = [{"given_name": "Ann", "family_name": "Lee"} for _ in range(3)]
    index = LinkIndex.from_table(table_of(rows), ["S-1", "S-1", "S-2"], NAME_RULE)
    assert index.remove([("a", "0"), ("a", "2"), ("a", "missing")]) == 2
    assert len(index) == 1
    assert index.members("S-1") == [("a", "1")]
    assert index.subject_ids() == {"S-1"}
    probe = table_of([{"record_id": "p", "given_name": "Ann", "family_name": "Lee"}])
    assert index.candidates(probe)[1].tolist() == [1]


def test_set_subjects_moves_records_between_subjects() -> None:
    index = LinkIndex.from_table(table_of([{}, {}]), ["S-1", "S-2"], NAME_RULE)
    index.set_subjects({("a", "1"): "S-1"})
    assert sorted(index.members("S-1")) == [("a", "0"), ("a", "1")]
    assert index.subject_ids() == {"S-1"}


def test_subject_codes_follow_moves_and_name_each_subject_once() -> None:
    index = LinkIndex.from_table(table_of([{}, {}, {}]), ["S-1", "S-2", "S-1"], NAME_RULE)
    index.set_subjects({("a", "1"): "S-3"})
    codes = index.subject_codes(np.arange(3))
    assert [index.subject_name(c) for c in codes.tolist()] == ["S-1", "S-3", "S-1"]
    assert codes[0] == codes[2] == index.subject_code("S-1")
    assert (index.member_count("S-1"), index.member_count("S-2")) == (2, 0)
    assert index.subject_code("S-unknown") == -1


def test_growing_past_capacity_keeps_rows_and_subjects(demo_table: EncodedTable) -> None:
    index = LinkIndex.empty(demo_table.schema_version, demo_table.key_id)
    for first in range(0, 6000, 1500):  # the first allocation holds ~5,700 rows
        rows = np.arange(first, first + 1500)
        index.upsert(take_rows(demo_table, rows), [f"S-{r}" for r in rows.tolist()])
    assert len(index) == 6000
    assert index.subject_of(demo_table.keys()[5999]) == "S-5999"
    np.testing.assert_array_equal(
        index.take(np.arange(6000)).filters["given_name"], demo_table.filters["given_name"][:6000]
    )


def test_appended_keys_are_found_before_and_after_the_delta_is_merged(
    demo_table: EncodedTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "_DELTA_MIN", 500)
    stored = take_rows(demo_table, np.arange(3000))
    new = take_rows(demo_table, np.arange(3000, 3300))
    bulk = LinkIndex.from_table(stored, ["s"] * len(stored))
    grown = LinkIndex.empty(stored.schema_version, stored.key_id)
    for first in range(0, len(stored), 250):
        rows = np.arange(first, min(first + 250, len(stored)))
        grown.upsert(take_rows(stored, rows), ["s"] * len(rows))
    assert _pairs(*grown.candidates(new)) == _pairs(*bulk.candidates(new))


def _same_table(a: EncodedTable, b: EncodedTable) -> None:
    assert a.keys() == b.keys()
    for kind in ("tokens", "multi", "filters", "popcounts"):
        left, right = getattr(a, kind), getattr(b, kind)
        assert left.keys() == right.keys(), kind
        for name in left:
            np.testing.assert_array_equal(left[name], right[name])


def test_row_blobs_round_trip(demo_table: EncodedTable) -> None:
    table = take_rows(demo_table, np.arange(200))
    blobs = row_blobs(table)
    assert len(blobs) == 200
    decoded = table_from_blobs(
        table.schema_version, table.key_id, table.agencies, table.record_ids, blobs
    )
    _same_table(decoded, table)


def test_blobs_of_tables_with_different_columns_decode_together() -> None:
    first = table_of([{"given_name": "Ann", "ssn": "123-45-6789"}])
    second = table_of([{"record_id": "x", "family_name": "Lee"}])
    decoded = table_from_blobs(
        first.schema_version, first.key_id, ["a", "a"], ["0", "x"],
        row_blobs(first) + row_blobs(second),
    )  # fmt: skip
    _same_table(decoded, concat_tables(first, second))


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda blob: b"", "truncated"),
        (lambda blob: b"JUNK" + blob[4:], "bad magic"),
        (lambda blob: blob[:3] + b"\x09" + blob[4:], "unsupported row blob format 9"),
        (lambda blob: blob[:-8], "length does not match"),
        (lambda blob: blob + b"\x00", "length does not match"),
    ],
)
def test_garbage_blobs_are_refused_with_a_clear_error(mangle: object, message: str) -> None:
    table = table_of([{"given_name": "Ann"}, {"given_name": "Bob"}])
    blobs = row_blobs(table)
    blobs[1] = mangle(blobs[1])  # type: ignore[operator]
    with pytest.raises(EncodedDataError, match=message):
        table_from_blobs(table.schema_version, table.key_id, ["a", "a"], ["0", "1"], blobs)


def test_blob_format_covers_every_token_the_schema_can_build() -> None:
    produced = {"name.suffix"} | {
        f"{field}.{token}" for field, tokens in FIELD_TOKENS.items() for token in tokens
    }
    produced -= {"given_name.suffix", "family_name.suffix"}  # both written as name.suffix
    assert produced == set(BLOB_TOKENS) | set(BLOB_MULTI)
    assert set(BLOB_FILTERS) == set(FIELD_TOKENS)


def test_one_row_keys_equal_the_vectorised_keys_for_every_demo_record(
    demo_data_dir: Path,
) -> None:
    """The resolve fast path must give exactly the keys of the array path."""
    from linkage.match.blocking import DEFAULT_RULES
    from linkage.match.index_keys import table_keys
    from linkage.match.table_ops import take_rows
    from tests.linkage.helpers import table_of

    rows = _demo_rows(demo_data_dir)[:400]
    table = table_of(rows)
    rows_all, keys_all, which_all = table_keys(table, DEFAULT_RULES)
    for i in range(len(table)):
        single = take_rows(table, np.array([i], dtype=np.int64))
        _, keys, which = table_keys(single, DEFAULT_RULES)
        mine = rows_all == i
        expected = sorted(zip(which_all[mine].tolist(), keys_all[mine].tolist(), strict=True))
        assert sorted(zip(which.tolist(), keys.tolist(), strict=True)) == expected


def _demo_rows(demo_data_dir: Path) -> list[dict[str, str]]:
    with (demo_data_dir / "police_cad.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))
