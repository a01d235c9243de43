"""Behaviour of given, middle and family name normalisation."""

from __future__ import annotations

import dataclasses

import jellyfish
import pytest

from linkage.encode.normalize import (
    NormalizedName,
    normalize_family_name,
    normalize_given_name,
    normalize_middle_name,
)


def _given(raw: str) -> NormalizedName:
    name = normalize_given_name(raw)
    assert name is not None
    return name


def _family(raw: str) -> NormalizedName:
    name = normalize_family_name(raw)
    assert name is not None
    return name


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("José", "jose"),
        ("  ANNE  ", "anne"),
        ("Zoë", "zoe"),
        ("Łukasz", "lukasz"),
        ("Mary-Ann", "mary ann"),
        ("Mary  Ann", "mary ann"),
        ("D'Shawn", "dshawn"),
        ("D\u2019Shawn", "dshawn"),
        ("J.", "j"),
        ("John3", "john"),
    ],
)
def test_given_name_text_is_lowercase_ascii_parts(raw: str, text: str) -> None:
    assert _given(raw).text == text


@pytest.mark.parametrize(
    ("raw", "text", "suffix"),
    [
        ("Dr. John", "john", ""),
        ("Mrs Mary", "mary", ""),
        ("Rev. Dr. Martin", "martin", ""),
        ("John Jr.", "john", "jr"),
        ("John, Sr", "john", "sr"),
        ("John II", "john", "ii"),
        ("John III", "john", "iii"),
        ("John IV", "john", "iv"),
        ("John 2nd", "john", "ii"),
        ("John 3rd", "john", "iii"),
        ("John Junior", "john", "jr"),
        ("Junior", "junior", ""),
    ],
)
def test_titles_are_dropped_and_suffixes_moved_to_suffix(raw: str, text: str, suffix: str) -> None:
    name = _given(raw)
    assert (name.text, name.suffix) == (text, suffix)


@pytest.mark.parametrize(
    "raw", ["", "   ", "123", "!!!", "Dr.", "Mr Mrs", "Jr", "III", "2nd", "unknown", "N/A", "-"]
)
def test_value_without_a_name_is_none(raw: str) -> None:
    assert normalize_given_name(raw) is None
    assert normalize_family_name(raw) is None
    assert normalize_middle_name(raw) is None


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("bill", ("robert", "william")),  # the table lists bill under both
        ("Peggy", ("margaret", "margaretta")),
        ("william", ("william",)),
        ("margaret", ("margaret",)),
        ("robert", ("robert",)),
        ("john", ("john",)),  # the table's jonathan -> john is not followed back
        ("mary", ("mary",)),
        ("michael", ("michael",)),
        ("jim", ("james",)),
        ("liz", ("elizabeth", "lisa", "lizzie")),
        ("mike", ("michael", "miguel")),
        ("jack", ("jackson", "jacqueline", "john")),
        ("johnny", ("johannes", "john")),
        ("dick", ("richard",)),
        ("Zebulonia", ("zebulonia",)),  # not in the table: stands for itself
    ],
)
def test_canonical_forms_map_nicknames_to_formal_names(
    raw: str, canonical: tuple[str, ...]
) -> None:
    assert _given(raw).canonical_forms == canonical


@pytest.mark.parametrize("raw", ["al", "chris", "tony", "sandy", "ed", "pat", "kate"])
def test_canonical_forms_are_at_most_three_and_sorted(raw: str) -> None:
    forms = _given(raw).canonical_forms
    assert 1 <= len(forms) <= 3
    assert list(forms) == sorted(forms)


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [("bill", "william"), ("bob", "robert"), ("peggy", "margaret"), ("jim", "james"),
     ("beth", "elizabeth"), ("dave", "david"), ("tommy", "thomas"), ("charlie", "charles"),
     ("debbie", "deborah"), ("jon", "john"), ("becky", "rebecca"), ("greg", "gregory")],
)  # fmt: skip
def test_nickname_shares_a_canonical_form_with_its_formal_name(nickname: str, formal: str) -> None:
    shared = set(_given(nickname).canonical_forms) & set(_given(formal).canonical_forms)
    assert shared


def test_given_name_canonical_and_phonetic_use_the_first_part_only() -> None:
    name = _given("Bill Henry Smith")
    assert name.parts == ("bill", "henry", "smith")
    assert name.canonical_forms == _given("bill").canonical_forms
    assert name.phonetic == jellyfish.metaphone("bill")


def test_middle_name_is_normalised_like_a_given_name() -> None:
    assert normalize_middle_name("Peggy") == normalize_given_name("Peggy")
    assert _given("Q.").text == "q"


@pytest.mark.parametrize(
    "spellings",
    [
        ("DeLaCruz", "De La Cruz", "de la Cruz", "de la cruz", "DE LA CRUZ"),
        ("van der Berg", "Van Der Berg", "VanderBerg", "van-der-berg"),
        ("O'Brien", "OBrien", "O\u2019Brien", "O Brien"),
        ("McDonald", "Mc Donald", "MCDONALD"),
        ("MacDonald", "Mac Donald"),
        ("St. John", "St John", "Saint John", "StJohn"),
        ("D'Angelo", "D Angelo", "Dangelo"),
        ("da Silva", "Da Silva", "DaSilva"),
        ("Núñez", "Nunez", "NÚÑEZ"),
    ],
)
def test_family_name_spellings_normalise_identically(spellings: tuple[str, ...]) -> None:
    names = {_family(s) for s in spellings}
    assert len(names) == 1


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("García-López", ("garcia", "lopez")),
        ("Garcia Lopez", ("garcia", "lopez")),
        ("Smith-Jones", ("smith", "jones")),
        ("de la Cruz-Ramos", ("delacruz", "ramos")),
        ("van der Berg", ("vanderberg",)),
        ("von Trapp", ("vontrapp",)),
        ("del Rio", ("delrio",)),
        ("di Maggio", ("dimaggio",)),
        ("le Blanc", ("leblanc",)),
        ("Le", ("le",)),  # a particle on its own is the surname
        ("La", ("la",)),
    ],
)
def test_family_name_parts_join_particles_and_split_compounds(
    raw: str, parts: tuple[str, ...]
) -> None:
    name = _family(raw)
    assert name.parts == parts
    assert name.text == " ".join(parts)


def test_family_name_canonical_form_is_text_without_spaces() -> None:
    name = _family("García-López")
    assert name.canonical_forms == ("garcialopez",)
    assert name.phonetic == jellyfish.metaphone("garcialopez")


@pytest.mark.parametrize(
    ("raw", "text", "suffix"),
    [("Smith Jr.", "smith", "jr"), ("Smith, III", "smith", "iii"), ("Dr. Smith", "smith", "")],
)
def test_family_name_drops_titles_and_keeps_suffix(raw: str, text: str, suffix: str) -> None:
    name = _family(raw)
    assert (name.text, name.suffix) == (text, suffix)


@pytest.mark.parametrize(
    ("left", "right"),
    [("Smith", "Smyth"), ("Catherine", "Katherine"), ("Philip", "Phillip"), ("Carl", "Karl")],
)
def test_phonetic_code_agrees_on_spelling_variants(left: str, right: str) -> None:
    assert _family(left).phonetic == _family(right).phonetic


def test_normalized_name_is_immutable() -> None:
    name = _given("Anne")
    with pytest.raises(dataclasses.FrozenInstanceError):
        name.text = "other"  # type: ignore[misc]
