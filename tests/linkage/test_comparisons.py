"""Table-driven comparison levels, as a reviewer would reason about pairs."""

import numpy as np
import pytest

from linkage.match.comparisons import COMPARISONS, comparison_levels

from .helpers import table_of

LEVEL = {c.name: c for c in COMPARISONS}


def _level(comparison: str, left: dict[str, str], right: dict[str, str]) -> str:
    table = table_of([left, right])
    index = [c.name for c in COMPARISONS].index(comparison)
    levels = comparison_levels(table, np.array([0]), np.array([1]))
    return LEVEL[comparison].levels[int(levels[0, index])]


@pytest.mark.parametrize(
    ("comparison", "left", "right", "expected"),
    [
        ("given_name", {"given_name": "Katherine"}, {"given_name": "katherine"}, "exact"),
        ("given_name", {"given_name": "Bill"}, {"given_name": "William"}, "nickname"),
        ("given_name", {"given_name": "Christopher"}, {"given_name": "Christophre"}, "dice_high"),
        ("given_name", {"given_name": "Jakob"}, {"given_name": "Jacobe"}, "phonetic"),
        ("given_name", {"given_name": "Ann"}, {"given_name": ""}, "null"),
        ("given_name", {"given_name": "Mary"}, {"given_name": "Deshawn"}, "else"),
        (
            "given_name",
            {"given_name": "Lee", "family_name": "Chan"},
            {"given_name": "Chan", "family_name": "Lee"},
            "swapped",
        ),
        ("family_name", {"family_name": "De La Cruz"}, {"family_name": "Delacruz"}, "exact"),
        (
            "family_name",
            {"family_name": "Garcia-Lopez"},
            {"family_name": "Lopez"},
            "part_or_phonetic",
        ),
        (
            "family_name",
            {"family_name": "Catherine"},
            {"family_name": "Kathryn"},
            "part_or_phonetic",
        ),
        ("family_name", {"family_name": "Johnson"}, {"family_name": "Okafor"}, "else"),
        ("birth_date", {"birth_date": "1980-03-07"}, {"birth_date": "03/07/1980"}, "exact"),
        (
            "birth_date",
            {"birth_date": "1980-03-07"},
            {"birth_date": "1980-07-03"},
            "swapped_or_one_digit",
        ),
        (
            "birth_date",
            {"birth_date": "1980-03-07"},
            {"birth_date": "1980-03-08"},
            "swapped_or_one_digit",
        ),
        (
            "birth_date",
            {"birth_date": "1980-03-07"},
            {"birth_date": "1980-11-22"},
            "year",
        ),
        ("birth_date", {"birth_date": "1980-03-07"}, {"birth_date": "2003-03-07"}, "monthday"),
        ("birth_date", {"birth_date": "1980-03-07"}, {"birth_date": "01/01/1981"}, "year_near"),
        ("ssn", {"ssn": "123-45-6780"}, {"ssn": "123-45-6781"}, "consecutive"),
        ("ssn", {"ssn": "123-45-6781"}, {"ssn": "123-45-6782"}, "consecutive"),
        ("ssn", {"ssn": "123-45-6780"}, {"ssn": "123-45-6790"}, "one_digit"),
        ("birth_date", {"birth_date": "1980-03-07"}, {"birth_date": "1955-11-22"}, "else"),
        ("birth_date", {"birth_date": "1980-03-07"}, {"birth_date": "garbage"}, "null"),
        ("sex", {"sex": "F"}, {"sex": "female"}, "exact"),
        ("sex", {"sex": "F"}, {"sex": "M"}, "else"),
        (
            "address",
            {"street_address": "12 Oak Street"},
            {"street_address": "12 oak st"},
            "street_exact",
        ),
        (
            "address",
            {"street_address": "12 Oak Street", "postcode": "62704"},
            {"street_address": "99 Elm Ave", "postcode": "62704", "city": "X"},
            "postcode_or_city",
        ),
        (
            "address",
            {"street_address": "12 Oak Street"},
            {"street_address": "99 Elm Avenue"},
            "else",
        ),
        ("phone", {"phone": "217-555-0134"}, {"phone": "(217) 555 0134"}, "exact"),
        ("phone", {"phone": "217-555-0134"}, {"phone": "217-555-0135"}, "one_digit"),
        ("ssn", {"ssn": "287-65-4321"}, {"ssn": "287654321"}, "exact"),
        ("suffix", {"family_name": "Smith Jr"}, {"family_name": "Smith Sr"}, "else"),
        ("suffix", {"family_name": "Smith Jr"}, {"given_name": "Bob Jr"}, "exact"),
        ("suffix", {"family_name": "Smith Jr"}, {"family_name": "Smith"}, "null"),
    ],
)
def test_comparison_level(
    comparison: str, left: dict[str, str], right: dict[str, str], expected: str
) -> None:
    assert _level(comparison, left, right) == expected


def test_every_comparison_has_null_first_and_else_last() -> None:
    for comparison in COMPARISONS:
        assert comparison.levels[0] == "null"
        assert comparison.levels[-1] == "else"
