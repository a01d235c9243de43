"""Behaviour of placeholder ("unknown marker") detection."""

from __future__ import annotations

import pytest

from linkage.encode.normalize import (
    is_unknown_marker,
    normalize_city,
    normalize_family_name,
    normalize_given_name,
    normalize_street_address,
)
from linkage.encode.normalize.names import _UNKNOWN_MARKERS


@pytest.mark.parametrize(
    "raw",
    [
        "unknown",
        "UNKNOWN",
        " Unknown ",
        "unk",
        "n/a",
        "N/A",
        "none",
        "NULL",
        "<null>",
        "(none)",
        "[unknown]",
        '"unknown"',
        "-",
        "--",
        "?",
        "xxx",
        "XXXX",
        "refused",
        "Declined",
        "john doe",
        "Jane Doe",
        "DOE, JOHN",
        "John_Doe",
        "FNU",
        "LNU",
        "U",
        "homeless",
        "No Fixed Address",
        "",
        "   ",
    ],
)
def test_placeholders_are_unknown_markers(raw: str) -> None:
    assert is_unknown_marker(raw)


@pytest.mark.parametrize(
    "raw",
    ["John", "Doe", "John Smith", "Jane", "X", "Na", "Nan", "Le", "0", "12345", "unknowns", "!!!"],
)
def test_real_values_are_not_unknown_markers(raw: str) -> None:
    assert not is_unknown_marker(raw)


@pytest.mark.parametrize("raw", ["unknown", "N/A", "null", "?", "John Doe"])
def test_normalisers_never_turn_a_placeholder_into_a_value(raw: str) -> None:
    assert normalize_given_name(raw) is None
    assert normalize_family_name(raw) is None
    assert normalize_street_address(raw) is None
    assert normalize_city(raw) is None


def test_no_marker_contains_a_digit() -> None:
    # is_unknown_marker skips its cleaning for any value with a digit.
    assert not any(ch.isdigit() for marker in _UNKNOWN_MARKERS for ch in marker)
