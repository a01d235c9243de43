"""Invariants of normalisation over arbitrary text (hypothesis)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from hypothesis import example, given, settings
from hypothesis import strategies as st

from linkage.encode.normalize import (
    is_unknown_marker,
    normalize_birth_date,
    normalize_city,
    normalize_family_name,
    normalize_given_name,
    normalize_middle_name,
    normalize_phone,
    normalize_postcode,
    normalize_sex,
    normalize_ssn,
    normalize_street_address,
)

# No deadline: the first example pays for loading the nickname table, and CI
# machines are shared; these tests are about correctness, not speed.
_NO_DEADLINE = settings(deadline=None)

_TEXT_NORMALISERS: list[Callable[[str], object]] = [
    is_unknown_marker,
    normalize_birth_date,
    normalize_city,
    normalize_family_name,
    normalize_given_name,
    normalize_middle_name,
    normalize_phone,
    normalize_postcode,
    normalize_sex,
    normalize_ssn,
    normalize_street_address,
]

# Arbitrary unicode plus text shaped like the fields, so that the interesting
# branches (digits and separators, name punctuation) are reached often.
_FIELD_ALPHABET = st.sampled_from("0123456789 -/.,#'\u2019()+xXaeiouMrsDJSTNdl\tÉñßİ")
_ANY_TEXT = st.one_of(st.text(), st.text(_FIELD_ALPHABET, max_size=30))
_NAMES = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.lists(
        st.sampled_from(
            ["de", "la", "van", "der", "mc", "o", "jr", "ii", "3rd", "dr", "mrs", "bill", "peggy",
             "garcia", "lopez", "o'brien", "smith", "junior", "st", "saint", "2", "-", ",", "."]
        ),
        max_size=6,
    ).map(" ".join),
)  # fmt: skip
_ADDRESSES = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(
            ["12", "north", "n.e.", "main", "street", "st.", "apt", "#4", "#", "unit", "suite",
             "p.o.", "box", "post", "office", "fifth", "avenue", "o'connor", "saint", "mount"]
        ),
        max_size=8,
    ).map(" ".join),
)  # fmt: skip


@_NO_DEADLINE
@given(_ANY_TEXT)
def test_no_text_makes_any_normaliser_raise(raw: str) -> None:
    for normalise in _TEXT_NORMALISERS:
        normalise(raw)


@_NO_DEADLINE
@given(_ANY_TEXT, st.dates())
def test_birth_date_is_never_after_today_nor_before_1900(raw: str, today: datetime.date) -> None:
    parsed = normalize_birth_date(raw, today=today)
    assert parsed is None or datetime.date(1900, 1, 1) <= parsed <= today


@_NO_DEADLINE
@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2024, 6, 1)))
def test_every_plausible_date_round_trips_through_each_shape(day: datetime.date) -> None:
    today = datetime.date(2024, 6, 1)
    shapes = [day.isoformat(), day.strftime("%m/%d/%Y"), day.strftime("%Y%m%d")]
    shapes.append(f"{day.month}-{day.day}-{day.year}")
    placeholder = day in (datetime.date(1900, 1, 1), datetime.date(1901, 1, 1))
    want = None if placeholder else day  # 1 January 1900/1901: "unknown", refused
    assert {normalize_birth_date(shape, today=today) for shape in shapes} == {want}


@_NO_DEADLINE
@given(_NAMES)
@example("\u00d9")  # transliterates to the placeholder "u"
@example("John Jr 2")
@example("2nd Mr John")
def test_given_name_is_idempotent_on_its_text(raw: str) -> None:
    name = normalize_given_name(raw)
    if name is not None:
        again = normalize_given_name(name.text)
        assert again is not None
        assert (again.text, again.parts, again.canonical_forms, again.phonetic) == (
            name.text,
            name.parts,
            name.canonical_forms,
            name.phonetic,
        )


@_NO_DEADLINE
@given(_NAMES)
@example("\u00d00A0A")  # "d a a": the joined "da" is a particle again
@example("\u00d00R")  # "d r" joins to the title "dr"
@example("De Clined")  # joins to the placeholder "declined"
def test_family_name_is_idempotent_on_its_text(raw: str) -> None:
    name = normalize_family_name(raw)
    if name is not None:
        again = normalize_family_name(name.text)
        assert again is not None
        assert (again.text, again.parts, again.canonical_forms, again.phonetic) == (
            name.text,
            name.parts,
            name.canonical_forms,
            name.phonetic,
        )


@_NO_DEADLINE
@given(_NAMES)
def test_name_text_is_lowercase_ascii_words(raw: str) -> None:
    for name in (normalize_given_name(raw), normalize_family_name(raw)):
        if name is not None:
            assert name.text == " ".join(name.parts)
            assert all(part.isascii() and part.isalpha() and part.islower() for part in name.parts)
            assert 1 <= len(name.canonical_forms) <= 3
            assert name.suffix in {"", "jr", "sr", "ii", "iii", "iv"}


@_NO_DEADLINE
@given(_ADDRESSES)
@example("\u00d9")
@example("Apt #4 # 5")
@example("P O Box 1")
def test_street_address_is_idempotent(raw: str) -> None:
    once = normalize_street_address(raw)
    if once is not None:
        assert normalize_street_address(once) == once


@_NO_DEADLINE
@given(_ANY_TEXT)
def test_city_is_idempotent(raw: str) -> None:
    once = normalize_city(raw)
    if once is not None:
        assert normalize_city(once) == once


@_NO_DEADLINE
@given(_ANY_TEXT)
def test_digit_normalisers_are_idempotent(raw: str) -> None:
    for normalise in (normalize_phone, normalize_ssn, normalize_postcode, normalize_sex):
        once = normalise(raw)
        if once is not None:
            assert normalise(once) == once
