"""Behaviour of street address and city normalisation."""

from __future__ import annotations

import pytest

from linkage.encode.normalize import normalize_city, normalize_street_address
from linkage.encode.normalize.address import _ADDRESS_WORDS, _UNIT_DESIGNATORS


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("123 Main Street", "123 main st"),
        ("123 MAIN ST.", "123 main st"),
        ("123 main   st", "123 main st"),
        ("45 Oak Avenue", "45 oak ave"),
        ("45 Oak Av", "45 oak ave"),
        ("9 Sunset Boulevard", "9 sunset blvd"),
        ("9 Elm Road", "9 elm rd"),
        ("9 Elm Drive", "9 elm dr"),
        ("9 Elm Lane", "9 elm ln"),
        ("9 Elm Court", "9 elm ct"),
        ("9 Elm Place", "9 elm pl"),
        ("9 Elm Circle", "9 elm cir"),
        ("9 Elm Terrace", "9 elm ter"),
        ("1 Pacific Highway", "1 pacific hwy"),
        ("1 Park Parkway", "1 park pkwy"),
        ("12 North Main St", "12 n main st"),
        ("12 N. Main St", "12 n main st"),
        ("12 West Rd", "12 w rd"),
        ("12 Northeast 5th St", "12 ne 5th st"),
        ("12 N.E. 5th St", "12 ne 5th st"),
        ("12 Fifth Avenue", "12 5th ave"),
        ("12 First St", "12 1st st"),
        ("12 Main St Apartment 4", "12 main st unit 4"),
        ("12 Main St Apt. 4", "12 main st unit 4"),
        ("12 Main St Apt #4", "12 main st unit 4"),
        ("12 Main St #4", "12 main st unit 4"),
        ("12 Main St, Unit 4", "12 main st unit 4"),
        ("12 Main St Suite 400", "12 main st unit 400"),
        ("12 Main St Ste 400", "12 main st unit 400"),
        ("P.O. Box 77", "po box 77"),
        ("PO Box 77", "po box 77"),
        ("Post Office Box 77", "po box 77"),
        ("POBox 77", "po box 77"),
        ("12 O'Connor St", "12 oconnor st"),
        ("12 Rue de l\u2019Église", "12 rue de leglise"),
        ("12-14 King St", "12 14 king st"),
        ("12 Main St. (rear)", "12 main st rear"),
        ("wyldes place", "wyldes pl"),
    ],
)
def test_street_address_is_cleaned_and_abbreviated(raw: str, normalized: str) -> None:
    assert normalize_street_address(raw) == normalized


@pytest.mark.parametrize(
    "raw", ["", "   ", "!!!", ",.-", "unknown", "N/A", "homeless", "Transient"]
)
def test_street_address_without_content_or_placeholder_is_none(raw: str) -> None:
    assert normalize_street_address(raw) is None


def test_every_address_abbreviation_is_left_alone_by_a_second_pass() -> None:
    for abbreviation in _ADDRESS_WORDS.values():
        assert _ADDRESS_WORDS.get(abbreviation, abbreviation) == abbreviation
        assert abbreviation not in _UNIT_DESIGNATORS


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Springfield", "springfield"),
        ("  NEW   YORK ", "new york"),
        ("St. Louis", "st louis"),
        ("Saint Louis", "st louis"),
        ("St Louis", "st louis"),
        ("Sainte Genevieve", "ste genevieve"),
        ("Ste. Genevieve", "ste genevieve"),
        ("Mount Vernon", "mt vernon"),
        ("Mt. Vernon", "mt vernon"),
        ("Fort Worth", "ft worth"),
        ("Ft Worth", "ft worth"),
        ("Coeur d'Alene", "coeur dalene"),
        ("Winston-Salem", "winston salem"),
        ("São Paulo", "sao paulo"),
        ("Española", "espanola"),
    ],
)
def test_city_is_cleaned_and_abbreviated(raw: str, normalized: str) -> None:
    assert normalize_city(raw) == normalized


@pytest.mark.parametrize("raw", ["", "  ", "...", "unknown", "NULL"])
def test_city_without_content_or_placeholder_is_none(raw: str) -> None:
    assert normalize_city(raw) is None
