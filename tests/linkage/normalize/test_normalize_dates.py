"""Behaviour of birth-date parsing and its plausibility checks."""

from __future__ import annotations

import datetime

import pytest

from linkage.encode.normalize import normalize_birth_date

TODAY = datetime.date(2024, 6, 1)
APRIL_12_1956 = datetime.date(1956, 4, 12)


@pytest.mark.parametrize(
    "raw",
    [
        "1956-04-12",
        "1956-4-12",
        "1956/04/12",
        "04/12/1956",
        "4/12/1956",
        "04-12-1956",
        "4-12-1956",
        "19560412",
        "19560412.0",
        "19560412.00",
        "  1956-04-12  ",
        "\t04/12/1956\n",
        "04 / 12 / 1956",
        "1956-04-12 00:00:00",
        "1956-04-12T00:00",
        "1956-04-12 00:00:00.000",
    ],
)
def test_accepted_shapes_parse_to_the_same_date(raw: str) -> None:
    assert normalize_birth_date(raw, today=TODAY) == APRIL_12_1956


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1956-02-30", "no February 30"),
        ("02/30/1956", "no February 30"),
        ("19560230", "no February 30"),
        ("1957-02-29", "not a leap year"),
        ("1956-13-01", "no month 13"),
        ("13/12/1956", "day-first dates are not guessed"),
        ("1956-00-10", "no month 0"),
        ("1899-12-31", "before 1900"),
        ("18991231", "before 1900"),
        ("04/12/56", "two-digit year"),
        ("4-12-56", "two-digit year"),
        ("560412", "two-digit year"),
        ("2024-06-02", "after today"),
        ("2999-01-01", "after today"),
        ("12.04.1956", "dotted day-first form is European"),
        ("04/12-1956", "mixed separators"),
        ("1956-04", "incomplete"),
        ("April 12, 1956", "month names are not a supported shape"),
        ("", "empty"),
        ("unknown", "placeholder"),
        ("19560412.5", "not an integer"),
        ("1956-04-12 25:00:00 extra", "trailing junk"),
    ],
)
def test_implausible_or_ambiguous_dates_are_none(raw: str, reason: str) -> None:
    assert normalize_birth_date(raw, today=TODAY) is None, reason


def test_leap_day_is_accepted() -> None:
    assert normalize_birth_date("02/29/1956", today=TODAY) == datetime.date(1956, 2, 29)


def test_today_itself_is_accepted_and_bounds_the_range() -> None:
    assert normalize_birth_date("2024-06-01", today=TODAY) == TODAY
    assert normalize_birth_date("2024-06-01", today=TODAY - datetime.timedelta(days=1)) is None


def test_default_today_is_the_current_date() -> None:
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    assert normalize_birth_date(tomorrow.isoformat()) is None
    assert normalize_birth_date("1956-04-12") == APRIL_12_1956


def test_earliest_accepted_date_is_the_second_of_january_1900() -> None:
    assert normalize_birth_date("1900-01-02", today=TODAY) == datetime.date(1900, 1, 2)


@pytest.mark.parametrize("placeholder", ["01/01/1900", "1900-01-01", "19010101", "1/1/1901"])
def test_placeholder_dates_are_treated_as_missing(placeholder: str) -> None:
    assert normalize_birth_date(placeholder, today=TODAY) is None
