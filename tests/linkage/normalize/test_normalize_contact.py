"""Behaviour of phone, SSN, sex and postcode normalisation."""

from __future__ import annotations

import pytest

from linkage.encode.normalize import (
    normalize_phone,
    normalize_postcode,
    normalize_sex,
    normalize_ssn,
)


@pytest.mark.parametrize(
    "raw",
    [
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "555 123 4567",
        "5551234567",
        "+1 555 123 4567",
        "+1 (555) 123-4567",
        "1-555-123-4567",
        "15551234567",
        "(555) 123-4567 x89",
        "555-123-4567 ext. 12",
        "555-123-4567 extension 7",
        "555-123-4567 #3",
        "  555-123-4567  ",
    ],
)
def test_phone_formats_reduce_to_ten_digits(raw: str) -> None:
    assert normalize_phone(raw) == "5551234567"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("555-1234", "seven digits: no area code"),
        ("555-1234 ext 12", "seven digits plus extension"),
        ("055-123-4567", "area code starts with 0"),
        ("155-123-4567", "area code starts with 1"),
        ("1-155-123-4567", "area code starts with 1 after country code"),
        ("555-555-5555", "one repeated digit"),
        ("(999) 999-9999", "one repeated digit"),
        ("2-555-123-4567", "eleven digits without country code 1"),
        ("+44 20 7946 0958", "not a US number"),
        ("555-123-45678", "eleven digits not starting with 1"),
        ("1-800-FLOWERS", "letters are not digits"),
        ("", "empty"),
        ("unknown", "placeholder"),
    ],
)
def test_invalid_phone_numbers_are_none(raw: str, reason: str) -> None:
    assert normalize_phone(raw) is None, reason


@pytest.mark.parametrize(
    "raw",
    ["234-56-7890", "234 56 7890", "234.56.7890", "234567890", " 234-56-7890 ", "234567890.0"],
)
def test_ssn_formats_reduce_to_nine_digits(raw: str) -> None:
    assert normalize_ssn(raw) == "234567890"


@pytest.mark.parametrize("raw", ["2345678", "23456789", " 2345678 "])
def test_bare_seven_or_eight_digit_ids_are_kept_as_is(raw: str) -> None:
    # FEBRL's soc_sec_id column holds such ids; they have no US SSN structure.
    assert normalize_ssn(raw) == raw.strip()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("000-12-3456", "area 000"),
        ("666-12-3456", "area 666"),
        ("900-12-3456", "area 9xx"),
        ("987-65-4321", "area 9xx"),
        ("234-00-5678", "group 00"),
        ("234-56-0000", "serial 0000"),
        ("123-45-6789", "well-known fake"),
        ("078-05-1120", "Woolworth wallet card"),
        ("111-11-1111", "one repeated digit"),
        ("1111111", "seven digits, one repeated digit"),
        ("234567", "six digits"),
        ("2345678901", "ten digits"),
        ("234-56-789a", "letters"),
        ("", "empty"),
    ],
)
def test_invalid_ssns_are_none(raw: str, reason: str) -> None:
    assert normalize_ssn(raw) is None, reason


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("M", "m"),
        ("m", "m"),
        ("Male", "m"),
        ("MAN", "m"),
        ("F", "f"),
        ("female", "f"),
        ("Woman", "f"),
        (" f. ", "f"),
        ("X", "x"),
        ("nonbinary", "x"),
        ("Non-Binary", "x"),
        ("non binary", "x"),
        ("U", None),
        ("unknown", None),
        ("Unk", None),
        ("", None),
        ("q", None),
        ("mf", None),
    ],
)
def test_sex_maps_to_m_f_x_or_none(raw: str, code: str | None) -> None:
    assert normalize_sex(raw) == code


@pytest.mark.parametrize(
    ("raw", "postcode"),
    [
        ("12345", "12345"),
        (" 02134 ", "02134"),
        ("12345-6789", "12345"),
        ("12345 6789", "12345"),
        ("123456789", "12345"),
        ("2600", "2600"),  # FEBRL: Australian postcodes have four digits
        ("0800", "0800"),
        ("2600.0", "2600"),
        ("123", None),
        ("123456", None),
        ("1234-5678", None),
        ("00000", None),
        ("0000", None),
        ("ABCDE", None),
        ("SW1A 1AA", None),
        ("", None),
    ],
)
def test_postcode_is_five_digit_zip_or_four_digit_postcode(raw: str, postcode: str | None) -> None:
    assert normalize_postcode(raw) == postcode


@pytest.mark.parametrize(("raw", "expected"), [("1804974", "1804974"), ("23456789", "23456789")])
def test_short_national_ids_are_kept_as_digits(raw: str, expected: str) -> None:
    assert normalize_ssn(raw) == expected
