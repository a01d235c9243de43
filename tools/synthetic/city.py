"""City habits: the population and record-keeping habits of a real city, behind options.

The default generator keeps its committed output byte for byte; these habits are
switched on by name (``generate(..., habits={"twins", ...})`` or
``python -m tools.synthetic --habits all``) and draw from the random stream only
when they are on. They copy what an independent, city-like data set showed:

* **population** — twins with consecutive SSNs and similar given names
  (``twins``); very common names with close birth dates (``common_name``);
  juniors and seniors 20–30 years apart at one address (``junior_senior``);
  Somali and Arabic households whose surname is the father's given name
  (``lineage``) with refugee-assigned 1 January birth dates (``refugee_dob``);
  Vietnamese and Chinese names written family name first (``family_first``),
  some with an adopted English given name;
* **records** — a birth year estimated from an age, one year off before the
  birthday (``approximate_dob``, mostly EMS); placeholder dates such as
  01/01/1900 (``placeholder_dob``); given and family swapped (``name_order``);
  Hispanic double surnames in either order or only one (``double_surname``);
  the middle name inside the given field (``middle_in_given``); initials only
  (``initials``); transliteration variants (``transliteration``); a miscoded
  sex (``sex_miscoded``); a shelter's desk phone (``desk_phone``).

Every record is labelled with the habits that shaped it (also the ones the
default generator always had: ``typo``, ``nickname``, ``moved``, ``shelter``,
``name_changed``, ``dob_error``, ``twin``, ``junior_senior`` …), so an error
analysis can report recall and false merges per habit.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Protocol

from tools.synthetic.person import Person
from tools.synthetic.tables import Weighted, choose

__all__ = ["CITY_HABITS", "CityPopulation", "CityRecords", "parse_habits"]

POPULATION_HABITS = (
    "twins", "common_name", "junior_senior", "lineage", "refugee_dob", "family_first",
    "transliteration",
)  # fmt: skip
RECORD_HABITS = (
    "approximate_dob", "placeholder_dob", "name_order", "double_surname", "middle_in_given",
    "initials", "sex_miscoded", "desk_phone",
)  # fmt: skip
CITY_HABITS: tuple[str, ...] = POPULATION_HABITS + RECORD_HABITS

REFERENCE_YEAR = 2024
PERIOD_START = date(2022, 1, 1)  # time 0.0; time 1.0 is three years later
ORIGIN_RATE = 0.10  # households from the communities below
ORIGINS = Weighted.of(["somali", "arabic", "vietnamese", "chinese"], [0.3, 0.25, 0.3, 0.15])
REFUGEE_DOB_RATE = {"somali": 0.8, "arabic": 0.3, "vietnamese": 0.25, "chinese": 0.05}
ADOPTED_NAME_RATE = 0.25
COMMON_NAME_RATE = 0.06
CONSECUTIVE_SSN_RATE = 0.7
SIMILAR_TWIN_NAME_RATE = 0.7

_LINEAGE_MALE = (
    "Mohamed", "Ahmed", "Abdi", "Hassan", "Ali", "Omar", "Yusuf", "Ibrahim", "Abdullahi",
    "Hussein", "Farah", "Osman", "Abdirahman", "Mahamud", "Nur", "Aden", "Warsame",
    "Abdul Rahman", "Khalid", "Mustafa",
)  # fmt: skip
_LINEAGE_FEMALE = (
    "Amina", "Fatima", "Hodan", "Asha", "Sahra", "Halima", "Maryan", "Ayaan", "Hawa",
    "Khadija", "Faduma", "Ifrah", "Nasra", "Safiya", "Layla", "Mariam",
)  # fmt: skip
_EAST_ASIAN = {
    "vietnamese": (
        Weighted.of(
            ["Nguyen", "Tran", "Le", "Pham", "Huynh", "Hoang", "Phan", "Vu", "Vo", "Dang"],
            [38, 11, 10, 7, 5, 5, 4, 4, 3, 2],
        ),
        ("Linh", "Huong", "Lan", "Mai", "Hoa", "Phuong", "Trang", "Thuy", "Ngoc", "Anh"),
        ("Minh", "Tuan", "Hung", "Duc", "Thanh", "Quang", "Long", "Hieu", "Nam", "Anh"),
        ("Thi", "Van"),
    ),
    "chinese": (
        Weighted.of(
            ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Wong", "Chan", "Lee"],
            [10, 10, 9, 7, 7, 4, 3, 4, 4, 5],
        ),
        ("Jing", "Hui", "Yan", "Xin", "Ying", "Mei", "Lian", "Fang"),
        ("Wei", "Ming", "Jun", "Lei", "Tao", "Hao", "Bo", "Jian"),
        ("", ""),
    ),
}
_ADOPTED = {
    "F": ("Lily", "Jenny", "Tina", "Vivian", "Amy"),
    "M": ("Tony", "Peter", "Kevin", "David", "Jimmy"),
}
_COMMON_SURNAMES = ("Smith", "Garcia", "Nguyen", "Mohamed", "Johnson", "Kim", "Hernandez", "Ali")
_COMMON_GIVEN = {
    "F": ("Maria", "Mary", "Jennifer", "Jessica", "Fatima"),
    "M": ("John", "Michael", "Jose", "David", "Mohamed"),
}
_SIMILAR_TWINS = {
    ("F", "F"): (("Jennifer", "Jessica"), ("Megan", "Morgan"), ("Kayla", "Kylie"),
                 ("Ashley", "Amber"), ("Mary", "Maria"), ("Lauren", "Laura")),
    ("M", "M"): (("Jason", "Justin"), ("Ryan", "Brian"), ("Aaron", "Adam"),
                 ("Daniel", "David"), ("Michael", "Mitchell"), ("Eric", "Derek")),
    ("M", "F"): (("Daniel", "Danielle"), ("Eric", "Erica"), ("Joseph", "Josephine"),
                 ("Paul", "Paula"), ("Brian", "Brianna"), ("Michael", "Michelle")),
}  # fmt: skip
#: Transliteration groups: one name as different clerks romanise it.
TRANSLITERATIONS: tuple[tuple[str, ...], ...] = (
    ("Mohamed", "Mohammed", "Muhammad", "Mohamad", "Mohammad"),
    ("Ahmed", "Ahmad", "Ahmet"),
    ("Hassan", "Hasan"),
    ("Hussein", "Husein", "Hussain", "Husain"),
    ("Yusuf", "Yousef", "Youssef", "Yusef"),
    ("Abdul Rahman", "Abdulrahman", "Abdirahman", "Abdurahman"),
    ("Abdullahi", "Abdallah", "Abdulahi"),
    ("Osman", "Othman", "Usman"),
    ("Omar", "Umar"),
    ("Fatima", "Fatuma", "Faduma", "Fatma"),
    ("Khadija", "Khadijah", "Hadija"),
    ("Mahamud", "Mahmoud", "Mohamud", "Mahmud"),
    ("Maryan", "Mariam", "Maryam"),
    ("Sahra", "Sahro", "Zahra"),
    ("Nguyen", "Ngyuen", "Nguyễn"),
    ("Huynh", "Huyen"),
    ("Zhang", "Chang"),
    ("Wong", "Huang"),
    ("Chen", "Chan"),
    ("Li", "Lee"),
)
_VARIANT_OF = {name: group for group in TRANSLITERATIONS for name in group}
_PLACEHOLDER_DATES = (date(1900, 1, 1), date(1900, 1, 1), date(1901, 1, 1), date(1800, 1, 1))
# Per agency: (approximate birth date from an age, placeholder date) per record.
_DOB_HABIT_RATES = {
    "ems": (0.3, 0.04),
    "police_cad": (0.04, 0.02),
    "homeless_services": (0.02, 0.02),
}
_RECORD_RATES = {
    "name_order": 0.03, "family_first": 0.4, "middle_in_given": 0.04, "initials": 0.03,
    "transliteration": 0.5, "sex_miscoded": 0.03, "desk_phone": 0.35,
}  # fmt: skip


def parse_habits(text: str | Iterable[str]) -> frozenset[str]:
    """``"all"``, ``"none"`` or names from :data:`CITY_HABITS` (comma-separated text or a list).

    Raises:
        ValueError: For an unknown habit name.
    """
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n and n != "none"]
    if "all" in names:
        return frozenset(CITY_HABITS)
    unknown = sorted(set(names) - set(CITY_HABITS))
    if unknown:
        raise ValueError(f"unknown habits {unknown}; known: all, none, {', '.join(CITY_HABITS)}")
    return frozenset(names)


class CityPopulation:
    """Population habits applied to drafted household members (see module docstring).

    Args:
        enabled: The habits switched on.
        rnd: The population's random stream.
    """

    def __init__(self, enabled: frozenset[str], rnd: random.Random) -> None:
        self.enabled = enabled
        self._rnd = rnd

    def adjust(self, kind: str, members: Sequence[_DraftLike], birth: _Birth) -> None:
        """Rename and re-date a drafted household in place."""
        rnd, on = self._rnd, self.enabled
        if kind == "junior_senior" and "junior_senior" in on:
            senior, junior = members
            age = REFERENCE_YEAR - junior.birth_date.year
            senior.birth_date = birth(min(85, age + 20 + int(rnd.random() * 11)))
        if kind == "twins" and "twins" in on and rnd.random() < SIMILAR_TWIN_NAME_RATE:
            one, two = members
            key = (one.sex, two.sex) if one.sex == two.sex else ("M", "F")
            pair = choose(_SIMILAR_TWINS[key], rnd.random)
            one.given_name, two.given_name = pair if one.sex == key[0] else pair[::-1]
        origins = {"lineage", "refugee_dob", "family_first", "transliteration"} & on
        if origins and rnd.random() < ORIGIN_RATE:
            origin = ORIGINS.pick(rnd)
            if origin in ("somali", "arabic"):
                self._lineage_household(members)
            else:
                self._east_asian_household(origin, members)
            if "refugee_dob" in on and rnd.random() < REFUGEE_DOB_RATE[origin]:
                for draft in members:
                    draft.birth_date = date(draft.birth_date.year, 1, 1)
                    draft.habits.add("refugee_dob")
        elif kind == "single" and "common_name" in on and rnd.random() < COMMON_NAME_RATE:
            draft = members[0]
            draft.family_name = choose(_COMMON_SURNAMES, rnd.random)
            draft.second_family_name = ""
            draft.given_name = choose(_COMMON_GIVEN[draft.sex], rnd.random)
            draft.birth_date = birth(34 + int(rnd.random() * 7))  # one narrow cohort
        for draft in members:
            if (
                draft.family_name in _COMMON_SURNAMES
                and draft.given_name in _COMMON_GIVEN[draft.sex]
            ):
                draft.habits.add("common_name")

    def _lineage_household(self, members: Sequence[_DraftLike]) -> None:
        """Somali/Arabic naming: the surname is the father's given name, then his father's."""
        rnd = self._rnd
        father, grandfather = choose(_LINEAGE_MALE, rnd.random), choose(_LINEAGE_MALE, rnd.random)
        for draft in members:
            own = draft.relation in ("spouse", "parent") and draft is not members[0]
            dad = choose(_LINEAGE_MALE, rnd.random) if own else father
            grand = choose(_LINEAGE_MALE, rnd.random) if own else grandfather
            pool = _LINEAGE_FEMALE if draft.sex == "F" else _LINEAGE_MALE
            draft.given_name = choose(pool, rnd.random)
            draft.middle_name, draft.family_name = dad, dad
            draft.second_family_name, draft.previous_family_name = "", ""
            draft.name_change_time = 1.0
            draft.lineage = (dad, grand)
            draft.habits.update({"lineage", "transliteration"} & self.enabled)
        if len(members) == 2 and members[0].relation == "parent" and members[0].sex == "M":
            child = members[1]
            child.middle_name = child.family_name = members[0].given_name
            child.lineage = (members[0].given_name, members[0].lineage[0])

    def _east_asian_household(self, origin: str, members: Sequence[_DraftLike]) -> None:
        rnd = self._rnd
        surnames, female, male, middles = _EAST_ASIAN[origin]
        family = surnames.pick(rnd)
        for draft in members:
            if draft.relation != "spouse" or draft is members[0]:
                draft.family_name = family
            else:
                draft.family_name = surnames.pick(rnd)
            draft.given_name = choose(female if draft.sex == "F" else male, rnd.random)
            middle = middles[0] if draft.sex == "F" else middles[1]
            draft.middle_name = middle
            draft.second_family_name, draft.previous_family_name = "", ""
            draft.name_change_time = 1.0
            if rnd.random() < ADOPTED_NAME_RATE:
                draft.alias = choose(_ADOPTED[draft.sex], rnd.random)
            draft.habits.update({"family_first", "transliteration"} & self.enabled)

    def finish(self, kind: str, people: list[Person]) -> list[Person]:
        """Give twins consecutive SSNs (issued together) most of the time."""
        if kind != "twins" or "twins" not in self.enabled or len(people) != 2:
            return people
        if self._rnd.random() >= CONSECUTIVE_SSN_RATE:
            return people
        first = people[0].ssn
        serial = (int(first[5:]) % 9999) + 1
        return [people[0], replace(people[1], ssn=f"{first[:5]}{serial:04d}")]


class CityRecords:
    """Record habits of one agency (see module docstring).

    Args:
        enabled: The habits switched on.
        agency: The agency whose records these are.
        rnd: The records' random stream.
    """

    def __init__(self, enabled: frozenset[str], agency: str, rnd: random.Random) -> None:
        self.enabled = enabled
        self._rnd = rnd
        self._dob_rates = _DOB_HABIT_RATES.get(agency, (0.0, 0.01))

    def on(self, habit: str) -> bool:
        """Whether ``habit`` is switched on and fires on this record."""
        return habit in self.enabled and self._rnd.random() < _RECORD_RATES.get(habit, 1.0)

    def person_for_record(self, person: Person, labels: list[str]) -> Person:
        """The person's names as this record spells them (lineage, transliteration, alias)."""
        rnd = self._rnd
        given, middle, family = person.given_name, person.middle_name, person.family_name
        if person.lineage and "lineage" in self.enabled:
            roll = rnd.random()
            dad, grand = person.lineage
            if roll < 0.3:  # father's and grandfather's names as the surname
                middle, family = "", f"{dad} {grand}"
            elif roll < 0.55:  # grandfather's name as the surname, father's as the middle
                middle, family = dad, grand
            elif roll < 0.8:
                middle = ""
            labels.append("lineage")
        if "transliteration" in self.enabled:
            given, family = self._variant(given, labels), self._variant(family, labels)
            middle = self._variant(middle, labels)
        if person.alias and rnd.random() < 0.5:
            given = person.alias
            labels.append("adopted_name")
        if (given, middle, family) == (person.given_name, person.middle_name, person.family_name):
            return person
        return replace(person, given_name=given, middle_name=middle, family_name=family)

    def _variant(self, name: str, labels: list[str]) -> str:
        words = name.split(" ")
        out = []
        for word in (name, *words) if " " in name else (name,):
            group = _VARIANT_OF.get(word)
            if group and self.on("transliteration"):
                labels.append("transliteration")
                if word == name:
                    return choose(group, self._rnd.random)
                out.append(choose(group, self._rnd.random))
            elif word != name:
                out.append(word)
        return " ".join(out) if out else name

    def structure(
        self, person: Person, names: tuple[str, str, str], labels: list[str]
    ) -> tuple[str, str, str]:
        """Name-order habits on written names: family first, swaps, middle in given, initials."""
        given, middle, family = names
        if "family_first" in person.habits and self.on("family_first"):
            given, family = family, given
            labels.append("family_first")
        elif self.on("name_order"):
            given, family = family, given
            labels.append("name_order")
        elif middle and self.on("middle_in_given"):
            given, middle = f"{given} {middle}", ""
            labels.append("middle_in_given")
        elif given and self.on("initials"):
            given = given[0] + ("." if self._rnd.random() < 0.4 else "")
            labels.append("initials")
        return given, middle, family

    def birth_date(self, person: Person, time: float, labels: list[str]) -> date | None:
        """An approximate or placeholder date of birth for this record, or None."""
        approximate, placeholder = self._dob_rates
        roll = self._rnd.random()
        if "approximate_dob" in self.enabled and roll < approximate:
            labels.append("approximate_dob")
            contact = date.fromordinal(PERIOD_START.toordinal() + int(time * 3 * 365))
            born = person.birth_date
            before_birthday = (contact.month, contact.day) < (born.month, born.day)
            age = contact.year - born.year - (1 if before_birthday else 0)
            return date(contact.year - age, 1, 1)  # one year late before the birthday
        if "placeholder_dob" in self.enabled and roll < approximate + placeholder:
            labels.append("placeholder_dob")
            return choose(_PLACEHOLDER_DATES, self._rnd.random)
        return None

    def desk_phone(self, person: Person, labels: list[str]) -> str | None:
        """The shelter's front-desk phone, given by a person without a home."""
        if person.shelter is None or not self.on("desk_phone"):
            return None
        labels.append("desk_phone")
        code = zlib.crc32(person.shelter.street.encode()) % 10_000_000
        return f"360{2_000_000 + code % 8_000_000:07d}"


class _DraftLike(Protocol):
    """What :class:`CityPopulation` changes on a drafted household member."""

    sex: str
    birth_date: date
    given_name: str
    family_name: str
    relation: str
    middle_name: str
    second_family_name: str
    previous_family_name: str
    name_change_time: float
    lineage: tuple[str, ...]
    alias: str
    habits: set[str]


class _Birth(Protocol):
    """A birth date that makes a person exactly ``age`` on the reference date."""

    def __call__(self, age: int, /) -> date: ...
