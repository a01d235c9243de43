"""Tests for the benchmark inputs: cache naming, canonical union, plaintext normalisation."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import orjson
import pytest

from benchmarks.bench_encode import encode_floor
from benchmarks.link_runs import pair_completeness
from benchmarks.plaintext import normalize_csv, normalized_row
from benchmarks.synthetic_cache import (
    dataset_dir_name,
    drop_stale_siblings,
    source_fingerprint,
    write_canonical_union,
)
from linkage.schema import CANONICAL_COLUMNS


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_dataset_dir_name_keys_size_seed_and_generator_version() -> None:
    names = {
        dataset_dir_name(10_000, 0, "abc"),
        dataset_dir_name(100_000, 0, "abc"),
        dataset_dir_name(10_000, 1, "abc"),
        dataset_dir_name(10_000, 0, "abd"),
    }
    assert len(names) == 4


def test_source_fingerprint_changes_with_any_source_file_only(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    before = source_fingerprint(tmp_path)
    (tmp_path / "notes.txt").write_text("not source\n")
    assert source_fingerprint(tmp_path) == before
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert source_fingerprint(tmp_path) != before


def test_source_fingerprint_ignores_the_excluded_directory(tmp_path: Path) -> None:
    (tmp_path / "gen").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "gen" / "b.py").write_text("y = 2\n")
    before = source_fingerprint(tmp_path, exclude=tmp_path / "gen")
    (tmp_path / "gen" / "b.py").write_text("y = 3\n")
    assert source_fingerprint(tmp_path, exclude=tmp_path / "gen") == before


def test_stale_engine_versions_are_dropped_and_others_kept(tmp_path: Path) -> None:
    for name in ("encoded-old1", "encoded-old2", "normalized-old1", ".encoded-new.tmp"):
        (tmp_path / name).mkdir()
    (tmp_path / "canonical.csv").write_text("record_id\n")
    dropped = drop_stale_siblings(tmp_path / "encoded-new")
    assert sorted(p.name for p in dropped) == ["encoded-old1", "encoded-old2"]
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == [".encoded-new.tmp", "canonical.csv", "normalized-old1"]


def test_canonical_union_keeps_canonical_columns_of_every_file_in_order(tmp_path: Path) -> None:
    extra = ["language"]
    first = _write_csv(
        tmp_path / "a.csv",
        [*CANONICAL_COLUMNS, *extra],
        [["A-1", "Ann", *[""] * (len(CANONICAL_COLUMNS) - 2), "en"]],
    )
    second = _write_csv(
        tmp_path / "b.csv",
        [*extra, *reversed(CANONICAL_COLUMNS)],
        [["es", *[""] * (len(CANONICAL_COLUMNS) - 2), "Bo", "B-1"]],
    )
    target = tmp_path / "union.csv"
    assert write_canonical_union([first, second], target) == 2
    rows = _read_csv(target)
    assert list(rows[0]) == list(CANONICAL_COLUMNS)
    assert [(r["record_id"], r["given_name"]) for r in rows] == [("A-1", "Ann"), ("B-1", "Bo")]


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        ("given_name", "  KAREN ", "karen"),
        ("family_name", "hUFFMAN", "huffman"),
        ("given_name", "UNKNOWN", ""),
        ("birth_date", "09/23/1979", "19790923"),
        ("birth_date", "1979-09-23", "19790923"),
        ("birth_date", "UNK", ""),
        ("phone", "N/A", ""),
        ("ssn", "", ""),
    ],
)
def test_normalized_row_puts_values_in_the_encoders_plaintext_form(
    column: str, raw: str, expected: str
) -> None:
    row = normalized_row({"record_id": " R-1 ", column: raw})
    assert row["record_id"] == "R-1"
    assert list(row) == list(CANONICAL_COLUMNS)
    assert row[column] == expected


def test_same_date_in_two_formats_normalises_to_the_same_plaintext() -> None:
    slashes = normalized_row({"record_id": "1", "birth_date": "12/15/1994"})
    iso = normalized_row({"record_id": "2", "birth_date": "1994-12-15"})
    assert slashes["birth_date"] == iso["birth_date"] != ""


def test_normalize_csv_writes_one_canonical_row_per_input_row(tmp_path: Path) -> None:
    source = _write_csv(
        tmp_path / "in.csv",
        ["record_id", "given_name", "birth_date", "note"],
        [["1", "KAREN", "19931125", "x"], ["2", "", "", ""]],
    )
    target = tmp_path / "out.csv"
    assert normalize_csv(source, target) == 2
    rows = _read_csv(target)
    assert [r["given_name"] for r in rows] == ["karen", ""]
    assert rows[0]["birth_date"] == "19931125"


def test_floor_baseline_copies_every_row_to_json_lines(tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "in.csv", ["record_id", "name"], [["1", "a"], ["2", "b,c"]])
    output = tmp_path / "out.jsonl"
    records, seconds = encode_floor(source, output)
    assert records == 2
    assert seconds >= 0
    lines = output.read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == [
        {"record_id": "1", "name": "a"},
        {"record_id": "2", "name": "b,c"},
    ]


def test_pair_completeness_counts_true_pairs_among_candidates_in_either_order() -> None:
    keys = [("a", "1"), ("a", "2"), ("b", "1"), ("b", "2")]
    left = np.array([2, 1], dtype=np.int64)  # candidates (2, 0) and (1, 3)
    right = np.array([0, 3], dtype=np.int64)
    truth = {
        (("a", "1"), ("b", "1")),  # rows 0, 2: a candidate
        (("a", "2"), ("b", "2")),  # rows 1, 3: a candidate
        (("a", "1"), ("a", "2")),  # rows 0, 1: missed
        (("a", "1"), ("z", "9")),  # not in the table: missed
    }
    assert pair_completeness(keys, left, right, truth) == pytest.approx(0.5)
    assert pair_completeness(keys, left, right, set()) == 1.0
