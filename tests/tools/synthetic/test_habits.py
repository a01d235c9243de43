"""Error habits: each shows in the output at the rate its agency profile configures.

Every check names the rows where a habit could show, recognises it from the
row and the true person, and compares the count with what the agency profile
predicts, sloppy records included. The habit functions themselves are
checked at the end.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import jellyfish
import pytest

from tools.synthetic import (
    DEFAULT_AGENCIES,
    PROFILES,
    AgencyProfile,
    Person,
    SyntheticDataset,
    habits,
)
from tools.synthetic.habits import has_particle
from tools.synthetic.records import sloppy_share
from tools.synthetic.tables import load_tables

MARKERS = {"", "UNKNOWN", "UNK", "N/A", "U"}
PLACEHOLDER_SSNS = {"000000000", "999999999", "123456789"}
DATE_SHAPES = {
    "iso": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "us": re.compile(r"^\d{2}/\d{2}/\d{4}$"),
    "compact": re.compile(r"^\d{8}$"),
}
Row = dict[str, str]


def fold(text: str) -> str:
    """Letters only, accents stripped, case folded: what a name 'is'."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in plain if ch.isalpha() and not unicodedata.combining(ch)).casefold()


def loose(text: str) -> str:
    """Accents stripped, case folded, spaces collapsed, punctuation kept."""
    plain = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).casefold().split())


def missing(value: str) -> bool:
    return value.strip().upper() in MARKERS


def parse_date(value: str) -> date:
    for shape in ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"):
        try:
            return datetime.strptime(value, shape).date()
        except ValueError:
            continue
    raise AssertionError(f"unparseable date {value!r}")


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def expect(
    profile: AgencyProfile, person: Person, chance: Callable[[AgencyProfile], float]
) -> float:
    """Probability over clean and sloppy records of an event built from profile rates."""
    sloppy = sloppy_share(profile, person)
    return (1 - sloppy) * chance(profile) + sloppy * chance(profile.hurried())


# -- error habits at their configured rates -------------------------------------------------


@dataclass(frozen=True)
class Habit:
    """Where a habit can show, how to see it, and how often the profile says it should.

    ``chance`` is the probability that the habit shows on an applicable row;
    ``kept`` is the probability, under the same profile, that a row passes the
    part of ``applies`` that other habits decide (a birth date to get wrong is
    one that was not left out), so that sloppy records are weighted correctly.
    """

    applies: Callable[[Row, Person], bool]
    shows: Callable[[Row, Person], bool]
    chance: Callable[[AgencyProfile, Person], float]
    kept: Callable[[AgencyProfile], float] = lambda q: 1.0

    def expected(self, profile: AgencyProfile, person: Person) -> float:
        joint = expect(profile, person, lambda q: self.kept(q) * self.chance(q, person))
        return joint / expect(profile, person, self.kept)


def _tables_sets(name: str, table: dict[str, tuple[str, ...]]) -> set[str]:
    return {fold(n) for n in table.get(fold(name), ())}


def nicks(name: str) -> set[str]:
    return _tables_sets(name, load_tables().nicknames)


def variants(name: str) -> set[str]:
    return _tables_sets(name, load_tables().variants)


def plain(p: Person) -> bool:
    """No suffix, double or changed surname to confuse the name checks."""
    return not (p.suffix or p.second_family_name or p.previous_family_name)


def either(row: Row, test: Callable[[str], bool]) -> bool:
    """The habit shows in the given or (after a swap) the family field."""
    return test(fold(row["given_name"])) or test(fold(row["family_name"]))


def one_edit(a: str, b: str) -> bool:
    return jellyfish.damerau_levenshtein_distance(a, b) == 1


def _particle_detectable(name: str) -> float:
    """Share of particle respellings that survive case folding (see habits.particle_variant)."""
    if "-" in name or "'" in name:
        return 1.0
    return 0.75 if " " in name or "." in name else 0.5


def _middle_first(row: Row, person: Person) -> bool:
    """The middle name was written as the given name."""
    return either(row, lambda v: v == fold(person.middle_name))


def _words(text: str) -> set[str]:
    return set(re.sub(r"[^a-z ]", " ", loose(text)).split())


def _given_kept(q: AgencyProfile, p: Person) -> float:
    return (1 - q.given_missing) * (1 - q.middle_as_given * bool(p.middle_name))


HABITS: dict[str, Habit] = {
    "nickname": Habit(
        lambda r, p: plain(p) and bool(nicks(p.given_name)) and not variants(p.given_name),
        lambda r, p: either(r, lambda v: v in nicks(p.given_name)),
        lambda q, p: _given_kept(q, p) * q.nickname * (1 - q.given_typo),
    ),
    "given_variant": Habit(
        lambda r, p: plain(p) and not nicks(p.given_name) and bool(variants(p.given_name)),
        lambda r, p: either(r, lambda v: v in variants(p.given_name)),
        lambda q, p: _given_kept(q, p) * q.given_variant * (1 - q.given_typo),
    ),
    "given_typo": Habit(
        lambda r, p: plain(p) and not nicks(p.given_name) and not variants(p.given_name),
        lambda r, p: either(r, lambda v: one_edit(v, fold(p.given_name))),
        lambda q, p: _given_kept(q, p) * q.given_typo,
    ),
    "family_variant": Habit(
        lambda r, p: plain(p) and bool(variants(p.family_name)),
        lambda r, p: either(r, lambda v: v in variants(p.family_name)),
        lambda q, p: q.family_variant * (1 - q.family_typo),
    ),
    "family_typo": Habit(
        lambda r, p: plain(p) and not variants(p.family_name) and not has_particle(p.family_name),
        lambda r, p: either(r, lambda v: one_edit(v, fold(p.family_name))),
        lambda q, p: q.family_typo,
    ),
    "particle_variant": Habit(
        lambda r, p: plain(p) and not variants(p.family_name) and has_particle(p.family_name),
        lambda r, p: (
            loose(r["family_name"]) != loose(p.family_name)
            and not one_edit(fold(r["family_name"]), fold(p.family_name))
        ),
        lambda q, p: q.particle_variant * _particle_detectable(p.family_name) * (1 - q.name_swap),
    ),
    "middle_missing": Habit(
        lambda r, p: bool(p.middle_name) and not p.second_family_name and not _middle_first(r, p),
        lambda r, p: r["middle_name"] == "",
        lambda q, p: q.middle_missing,
    ),
    "middle_initial": Habit(
        lambda r, p: bool(p.middle_name and r["middle_name"]) and not _middle_first(r, p),
        lambda r, p: len(fold(r["middle_name"])) == 1,
        lambda q, p: q.middle_initial,
    ),
    "middle_as_given": Habit(
        lambda r, p: plain(p) and bool(p.middle_name) and fold(p.middle_name) != fold(p.given_name),
        lambda r, p: _middle_first(r, p),
        lambda q, p: (1 - q.given_missing) * q.middle_as_given * (1 - q.given_typo),
    ),
    "name_swap": Habit(
        lambda r, p: (
            plain(p)
            and not (nicks(p.given_name) or variants(p.given_name) or variants(p.family_name))
            and not has_particle(p.family_name)
        ),
        lambda r, p: (
            fold(r["given_name"]) == fold(p.family_name)
            and fold(r["family_name"]) in {fold(p.given_name), fold(p.middle_name)}
        ),
        lambda q, p: (1 - q.given_missing) * q.name_swap * (1 - q.given_typo) * (1 - q.family_typo),
    ),
    "strip_diacritics": Habit(
        lambda r, p: plain(p) and not p.family_name.isascii() and not missing(r["family_name"]),
        lambda r, p: r["family_name"].isascii(),
        lambda q, p: q.strip_diacritics,
    ),
    "whitespace_noise": Habit(
        lambda r, p: True,
        lambda r, p: (
            any(r[f] != " ".join(r[f].split()) for f in ("given_name", "family_name"))
            or r["middle_name"] != " ".join(r["middle_name"].split())
        ),
        lambda q, p: q.whitespace_noise,
    ),
    "given_missing": Habit(
        lambda r, p: True,
        lambda r, p: missing(r["given_name"]) or missing(r["family_name"]),
        lambda q, p: q.given_missing,
    ),
    "suffix_shown": Habit(
        lambda r, p: p.suffix in ("Jr", "II"),
        lambda r, p: bool({"jr", "ii"} & _words(r["given_name"] + " " + r["family_name"])),
        lambda q, p: q.suffix_shown,
    ),
    "stale_surname": Habit(
        lambda r, p: bool(p.previous_family_name) and not p.second_family_name,
        lambda r, p: either(r, lambda v: v == fold(p.previous_family_name)),
        lambda q, p: (0.5 + 0.5 * q.stale_surname) * (1 - q.family_typo),
    ),
    "hyphenated_surname": Habit(
        lambda r, p: bool(p.previous_family_name) and not p.second_family_name,
        lambda r, p: fold(r["family_name"]) == fold(p.previous_family_name + p.family_name),
        # Half the respellings of "Old-New" keep both parts (see habits.particle_variant).
        lambda q, p: 0.5 * q.hyphenated_surname * (1 - q.particle_variant / 2) * (1 - q.name_swap),
    ),
    "dob_missing": Habit(
        lambda r, p: True, lambda r, p: missing(r["birth_date"]), lambda q, p: q.dob_missing
    ),
    "dob_error": Habit(
        lambda r, p: not missing(r["birth_date"]),
        lambda r, p: parse_date(r["birth_date"]) != p.birth_date,
        lambda q, p: q.dob_error,
        lambda q: 1 - q.dob_missing,
    ),
    "sex_missing": Habit(
        lambda r, p: True, lambda r, p: missing(r["sex"]), lambda q, p: q.sex_missing
    ),
    "phone_missing": Habit(
        lambda r, p: bool(p.phones), lambda r, p: missing(r["phone"]), lambda q, p: q.phone_missing
    ),
    "ssn_present": Habit(
        lambda r, p: True,
        lambda r, p: len(digits(r["ssn"])) == 9 and digits(r["ssn"]) not in PLACEHOLDER_SSNS,
        lambda q, p: q.ssn_known * (1 - q.ssn_missing),
    ),
    "ssn_typo": Habit(
        lambda r, p: len(digits(r["ssn"])) == 9 and digits(r["ssn"]) not in PLACEHOLDER_SSNS,
        lambda r, p: digits(r["ssn"]) != p.ssn,
        lambda q, p: q.ssn_typo,
        lambda q: 1 - q.ssn_missing,
    ),
    "address_missing": Habit(
        lambda r, p: not p.homeless,
        lambda r, p: missing(r["street_address"]),
        lambda q, p: q.address_missing,
    ),
    "postcode_missing": Habit(
        lambda r, p: not p.homeless and not missing(r["street_address"]),
        lambda r, p: missing(r["postcode"]),
        lambda q, p: q.postcode_missing,
        lambda q: 1 - q.address_missing,
    ),
    "stale_address": Habit(
        lambda r, p: (
            not p.homeless
            and len(p.places) == 2
            and p.places[0].number != p.places[1].number
            and not missing(r["street_address"])
        ),
        lambda r, p: r["street_address"].split()[0] == p.places[0].number,
        lambda q, p: 0.5 + 0.5 * q.stale_address,
        lambda q: 1 - q.address_missing,
    ),
}


@pytest.mark.parametrize("agency", DEFAULT_AGENCIES)
@pytest.mark.parametrize("habit", sorted(HABITS))
def test_each_error_habit_shows_at_its_configured_rate(
    observed: dict[str, list[tuple[Row, Person]]], agency: str, habit: str
) -> None:
    profile, check = PROFILES[agency], HABITS[habit]
    chances = [
        check.expected(profile, person)
        for row, person in observed[agency]
        if check.applies(row, person)
    ]
    hits = sum(
        1
        for row, person in observed[agency]
        if check.applies(row, person) and check.shows(row, person)
    )
    expected = sum(chances)
    assert len(chances) >= 50, f"too few chances to see {habit} at {agency}"
    tolerance = max(0.2 * expected, 4 * math.sqrt(expected)) + 2
    assert abs(hits - expected) <= tolerance, (
        f"{agency} {habit}: {hits} of {len(chances)}, expected {expected:.0f}"
    )


def test_police_type_names_in_upper_case_except_for_case_noise(
    observed: dict[str, list[tuple[Row, Person]]],
) -> None:
    rows = observed["police_cad"]
    names = ("given_name", "family_name", "middle_name")
    lowered = sum(1 for row, _ in rows if any(c.islower() for f in names for c in row[f]))
    police = PROFILES["police_cad"]
    expected = sum(expect(police, person, lambda q: q.case_noise) for _, person in rows)
    assert abs(lowered - expected) <= 0.25 * expected


@pytest.mark.parametrize("agency", DEFAULT_AGENCIES)
def test_date_and_phone_formats_follow_the_agency_mix(
    observed: dict[str, list[tuple[Row, Person]]], agency: str
) -> None:
    profile = PROFILES[agency]
    dates = [row["birth_date"] for row, _ in observed[agency] if not missing(row["birth_date"])]
    for style, shape in DATE_SHAPES.items():
        index = (
            profile.date_formats.values.index(style) if style in profile.date_formats.values else -1
        )
        share = sum(1 for d in dates if shape.match(d)) / len(dates)
        weight = _weight(profile.date_formats.cumulative, index)
        assert abs(share - weight) < 0.03, f"{agency} {style} dates: {share:.3f} vs {weight:.3f}"
    phones = {
        _phone_shape(row["phone"]) for row, _ in observed[agency] if not missing(row["phone"])
    }
    assert len(phones) == len(profile.phone_formats.values)


def _weight(cumulative: tuple[float, ...], index: int) -> float:
    if index < 0:
        return 0.0
    return (cumulative[index] - (cumulative[index - 1] if index else 0.0)) / cumulative[-1]


def _phone_shape(phone: str) -> str:
    return re.sub(r"\d", "9", phone)


def test_missing_values_use_each_agencys_markers(sample: SyntheticDataset) -> None:
    seen = {
        agency: {row[f] for row in rows for f in ("birth_date", "phone", "ssn") if missing(row[f])}
        for agency, rows in sample.records.items()
    }
    assert seen["behavioral_health"] == {""}
    assert {"UNKNOWN", "UNK", ""} <= seen["police_cad"]
    assert {"N/A", "UNKNOWN", ""} <= seen["homeless_services"]


def test_diacritics_survive_in_one_agency_and_are_stripped_in_another(
    sample: SyntheticDataset,
) -> None:
    def accented(agency: str) -> int:
        rows = sample.records[agency]
        return sum(1 for r in rows if not (r["given_name"] + r["family_name"]).isascii())

    assert accented("police_cad") == 0
    assert accented("behavioral_health") > 200


# -- the habits themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Smith", "Katherine", "O'Brien", "De La Cruz", "Núñez", "Li"])
def test_a_typo_is_one_keyboard_edit_of_the_letters(name: str) -> None:
    rnd = random.Random(name)
    for _ in range(200):
        slipped = habits.typo(name, rnd)
        assert slipped != name
        assert jellyfish.damerau_levenshtein_distance(fold(slipped), fold(name)) == 1


def test_a_wrong_birth_date_is_wrong_in_one_of_the_usual_ways() -> None:
    rnd = random.Random(1)
    truth = date(1984, 3, 7)
    kinds: Counter[str] = Counter()
    for _ in range(2000):
        wrong = habits.misdate(truth, rnd)
        assert wrong != truth
        if (wrong.month, wrong.day) == (truth.day, truth.month):
            kinds["transposed"] += 1
        elif wrong.month == 1 and wrong.day == 1:
            kinds["january"] += 1
        elif abs(wrong.year - truth.year) == 1 and (wrong.month, wrong.day) == (3, 7):
            kinds["year"] += 1
        else:
            compact = habits.format_date(wrong, "compact")
            assert sum(a != b for a, b in zip(compact, "19840307", strict=True)) == 1
            kinds["digit"] += 1
    assert min(kinds.values()) > 150


@pytest.mark.parametrize(
    ("name", "possible"),
    [
        ("O'Brien", {"OBrien", "O Brien", "Obrien"}),
        ("De La Cruz", {"Delacruz", "de la Cruz", "Cruz", "DeLaCruz"}),
        ("Smith-Jones", {"Smith Jones", "Smith", "Jones", "Smithjones"}),
        ("McDonald", {"Mc Donald", "Mcdonald"}),
        ("St. John", {"Stjohn", "st John", "John", "StJohn"}),
    ],
)
def test_particles_and_compounds_are_respelled_the_ways_agencies_do(
    name: str, possible: set[str]
) -> None:
    rnd = random.Random(0)
    assert {habits.particle_variant(name, rnd) for _ in range(200)} == possible


@pytest.mark.parametrize(
    ("style", "written"),
    [
        ("dashes", "360-555-0134"),
        ("parens", "(360) 555-0134"),
        ("dotted", "360.555.0134"),
        ("intl", "+1 360 555 0134"),
        ("local", "555-0134"),
        ("plain", "3605550134"),
    ],
)
def test_phones_are_written_in_common_us_styles(style: str, written: str) -> None:
    assert habits.format_phone("3605550134", style) == written
