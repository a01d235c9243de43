"""Tests for the shared command-line options and the PASS/FAIL summary."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.options import parse_sizes, size_label
from benchmarks.targets import Check, at_least, at_most, summary_table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10000,100000", [10_000, 100_000]),
        ("100000, 10000,10000", [10_000, 100_000]),
        ("10k,1M,1_000", [1_000, 10_000, 1_000_000]),
        ("5000,", [5_000]),
    ],
)
def test_parse_sizes_accepts_counts_and_suffixes_sorted_and_distinct(
    text: str, expected: list[int]
) -> None:
    assert parse_sizes(text) == expected


@pytest.mark.parametrize("text", ["", "ten", "0", "-5", "1.5k", "k"])
def test_parse_sizes_refuses_anything_but_positive_counts(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_sizes(text)


@pytest.mark.parametrize(
    ("records", "label"),
    [(1_000_000, "1M"), (100_000, "100k"), (10_000, "10k"), (1_500, "1500"), (2_500_000, "2500k")],
)
def test_size_label_uses_the_shortest_exact_suffix(records: int, label: str) -> None:
    assert size_label(records) == label


def test_check_status_is_pass_fail_or_info() -> None:
    assert Check("b", "f", "1", passed=True).status == "PASS"
    assert Check("b", "f", "1", passed=False).status == "FAIL"
    assert Check("b", "f", "1").status == "info"


def test_target_comparisons_include_the_bound() -> None:
    assert at_least(20_000, 20_000)
    assert not at_least(19_999.9, 20_000)
    assert at_most(300, 300)
    assert not at_most(300.1, 300)


def test_summary_table_has_one_row_per_check_with_status_and_ratio() -> None:
    checks = [
        Check("encode 100k", "records/s", "25,000", ">= 20,000", True, "250,000", "0.100"),
        Check("link 10k", "F1", "0.9500"),
    ]
    lines = summary_table(checks).splitlines()
    assert len(lines) == 4
    assert lines[0].split()[:3] == ["benchmark", "figure", "measured"]
    assert lines[2].split() == [
        "encode", "100k", "records/s", "25,000", ">=", "20,000", "PASS", "250,000", "0.100",
    ]  # fmt: skip
    assert lines[3].split() == ["link", "10k", "F1", "0.9500", "-", "info", "-", "-"]
