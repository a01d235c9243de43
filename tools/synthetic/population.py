"""Synthetic people, drawn household by household.

The population is what makes linkage hard before any typing error happens:
names follow Zipf-like frequency tables, so "James Smith" and "Maria Garcia"
recur among different people; households put relatives at one address with one
surname; twins share birth date, surname and address; juniors carry their
father's full name; some women change surname during the observed period;
households move; people without a home give a shelter's address that many
strangers share. Each :class:`Person` is the truth that agency records are
later corrupted from. Time runs from 0.0 to 1.0 over the observed period.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from tools.synthetic.city import CityPopulation
from tools.synthetic.person import Person
from tools.synthetic.tables import NameTables, Place, Weighted

REFERENCE_DATE = date(2024, 12, 31)
# (youngest, oldest, share): co-response clients skew towards working age.
AGE_BANDS = Weighted.of(
    [(18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 85)],
    [0.16, 0.24, 0.21, 0.17, 0.13, 0.06, 0.03],
)
# Mean household size is ~1.45, so twins and juniors/seniors are each ~4 % of people.
HOUSEHOLD_KINDS = Weighted.of(
    ["single", "couple", "parent_child", "parent_children", "siblings", "twins", "junior_senior"],
    [0.59, 0.15, 0.10, 0.04, 0.08, 0.03, 0.03],
)
HOMELESS_RATE = {"single": 0.2, "couple": 0.06}
MOVE_RATE = 0.2
PHONE_RATE = 0.6
SHARED_LANDLINE_RATE = 0.3
SECOND_PHONE_RATE = 0.15
MIDDLE_NAME_RATE = 0.8
HISPANIC_GIVEN_RATE = 0.65
ACCENT_RATE = 0.7
DOUBLE_SURNAME_RATE = 0.2
TOOK_SPOUSE_NAME_RATE = 0.7
MARRIED_DURING_PERIOD_RATE = 0.35
OTHER_NAME_CHANGE_RATE = 0.065
FREQUENT_UTILISER_RATE = 0.015
FREQUENT_UTILISER_RATE_HOMELESS = 0.05
OTHER_LANGUAGES = Weighted.of(
    ["Vietnamese", "Chinese", "Russian", "Tagalog", "Korean", "Arabic", "Somali", "Hmong", "ASL"],
    [3, 3, 2, 2, 1.5, 1.5, 1, 1, 1],
)
AREA_CODES = ("360", "564")


@dataclass
class _Draft:
    """A household member before the shared and personal details are added."""

    sex: str
    birth_date: date
    given_name: str
    family_name: str
    relation: str
    middle_name: str = ""
    second_family_name: str = ""
    previous_family_name: str = ""
    name_change_time: float = 1.0
    suffix: str = ""
    lineage: tuple[str, ...] = ()
    alias: str = ""
    habits: set[str] = field(default_factory=set)


@dataclass
class _Household:
    """What members of one household share."""

    household_id: int
    places: tuple[Place, ...]
    move_time: float
    shelter: Place | None
    landline: str
    members: list[_Draft] = field(default_factory=list)


class PopulationBuilder:
    """Draws people household by household from one random stream.

    Args:
        rnd: The random stream; the same seed gives the same people.
        tables: Name and place tables.
        first_index: Number of the first person, so chunks get distinct ids.
    """

    def __init__(
        self,
        rnd: random.Random,
        tables: NameTables,
        first_index: int = 0,
        city: frozenset[str] = frozenset(),
    ) -> None:
        self._rnd = rnd
        # City habits draw from the stream only when on: the default output is unchanged.
        self._city = CityPopulation(city, rnd) if city else None
        self._tables = tables
        self._next_person = first_index
        self._next_household = first_index
        self._kinds: dict[str, Callable[[], list[_Draft]]] = {
            "single": self._single,
            "couple": self._couple,
            "parent_child": self._parent_child,
            "parent_children": self._parent_children,
            "siblings": self._siblings,
            "twins": self._twins,
            "junior_senior": self._junior_senior,
        }

    def draw(self, people: int) -> list[Person]:
        """Draw exactly ``people`` people (the last household may be cut short)."""
        out: list[Person] = []
        while len(out) < people:
            out.extend(self._household(HOUSEHOLD_KINDS.pick(self._rnd)))
        out = out[:people]
        kept = {person.person_id for person in out[-2:]}
        for index in range(max(0, len(out) - 2), len(out)):  # a relative may have been cut
            if out[index].relative_id and out[index].relative_id not in kept:
                out[index] = replace(out[index], relative_id="")
        return out

    # -- households -------------------------------------------------------------

    def _household(self, kind: str) -> list[Person]:
        members = self._kinds[kind]()
        if self._city is not None:
            self._city.adjust(kind, members, self._birth)
        shared = self._shared(kind, len(members))
        shared.members = members
        people = self._finish(shared)
        return people if self._city is None else self._city.finish(kind, people)

    def _single(self) -> list[_Draft]:
        sex = self._sex()
        family, second, hispanic = self._surname()
        draft = self._draft(sex, self._birth(self._age()), family, hispanic, "")
        draft.second_family_name = second
        self._maybe_change_name(draft)
        return [draft]

    def _couple(self) -> list[_Draft]:
        first_sex = "M" if self._rnd.random() < 0.94 else "F"  # else a couple of two women
        family, second, hispanic = self._surname()
        age = self._age()
        partner_age = min(85, max(18, age - 2 + round(self._rnd.gauss(0, 4))))
        one = self._draft(first_sex, self._birth(age), family, hispanic, "spouse")
        one.second_family_name = second
        own, own_second, own_hispanic = self._surname()
        two = self._draft("F", self._birth(partner_age), own, own_hispanic, "spouse")
        two.second_family_name = own_second
        if first_sex == "M" and self._rnd.random() < TOOK_SPOUSE_NAME_RATE:
            two.family_name, two.second_family_name = family, ""
            if self._rnd.random() < MARRIED_DURING_PERIOD_RATE:
                two.previous_family_name = own
                two.name_change_time = self._rnd.uniform(0.15, 0.85)
        return [one, two]

    def _parent_child(self) -> list[_Draft]:
        family, second, hispanic = self._surname()
        child_age = min(self._age(), 60)
        parent_age = min(85, child_age + self._int(20, 40))
        parent = self._draft(self._sex(), self._birth(parent_age), family, hispanic, "parent")
        child = self._draft(self._sex(), self._birth(child_age), family, hispanic, "child")
        parent.second_family_name = child.second_family_name = second
        for draft in (parent, child):
            self._maybe_change_name(draft)
        return [parent, child]

    def _parent_children(self) -> list[_Draft]:
        parent, child = self._parent_child()
        family = child.previous_family_name or child.family_name
        hispanic = family in self._tables.hispanic_surnames
        parent_age = (REFERENCE_DATE - parent.birth_date).days // 365
        sibling_age = self._int(18, max(18, parent_age - 20))
        sibling = self._draft(self._sex(), self._birth(sibling_age), family, hispanic, "child")
        sibling.given_name = self._distinct_given(sibling.sex, hispanic, child.given_name, False)
        sibling.second_family_name = child.second_family_name
        return [parent, child, sibling]

    def _siblings(self) -> list[_Draft]:
        family, second, hispanic = self._surname()
        age = min(self._age(), 75)
        gap = self._int(1, 10)
        older = self._draft(self._sex(), self._birth(age + gap), family, hispanic, "sibling")
        younger = self._draft(self._sex(), self._birth(age), family, hispanic, "sibling")
        older.second_family_name = younger.second_family_name = second
        younger.given_name = self._distinct_given(younger.sex, hispanic, older.given_name, False)
        return [older, younger]

    def _twins(self) -> list[_Draft]:
        family, second, hispanic = self._surname()
        born = self._birth(self._age())
        one = self._draft(self._sex(), born, family, hispanic, "twin")
        other_sex = one.sex if self._rnd.random() < 0.67 else ("F" if one.sex == "M" else "M")
        two = self._draft(other_sex, born, family, hispanic, "twin")
        # Parents of twins like alliteration (Daniel/David), which makes twins harder to tell apart.
        alliterate = self._rnd.random() < 0.4
        two.given_name = self._distinct_given(other_sex, hispanic, one.given_name, alliterate)
        one.second_family_name = two.second_family_name = second
        return [one, two]

    def _junior_senior(self) -> list[_Draft]:
        family, second, hispanic = self._surname()
        junior_age = min(self._age(), 60)
        senior_age = min(85, junior_age + self._int(20, 40))
        senior = self._draft("M", self._birth(senior_age), family, hispanic, "senior")
        junior = self._draft("M", self._birth(junior_age), family, hispanic, "junior")
        junior.given_name = senior.given_name
        if self._rnd.random() < 0.9:
            junior.middle_name = senior.middle_name
        senior.second_family_name = junior.second_family_name = second
        junior.suffix = "Jr" if self._rnd.random() < 0.85 else "II"
        senior.suffix = "Sr"
        return [senior, junior]

    # -- shared and personal details -------------------------------------------

    def _shared(self, kind: str, size: int) -> _Household:
        rnd = self._rnd
        self._next_household += 1
        places: tuple[Place, ...] = (self._place(),)
        move_time = 1.0
        if rnd.random() < MOVE_RATE:
            places, move_time = (places[0], self._place()), rnd.uniform(0.1, 0.9)
        shelter = None
        if rnd.random() < HOMELESS_RATE.get(kind, 0.02):
            shelter = rnd.choice(self._tables.shelters)
        landline = self._phone() if size > 1 and rnd.random() < SHARED_LANDLINE_RATE else ""
        return _Household(self._next_household, places, move_time, shelter, landline)

    def _finish(self, household: _Household) -> list[Person]:
        ids = [f"P{self._next_person + i:07d}" for i in range(len(household.members))]
        self._next_person += len(ids)
        spelled: dict[str, str] = {"": ""}  # one spelling of a shared surname per household
        for draft in household.members:
            for name in (draft.family_name, draft.second_family_name, draft.previous_family_name):
                if name not in spelled:
                    spelled[name] = self._display(name)
        people = []
        for index, draft in enumerate(household.members):
            relative = ids[1 - index] if len(ids) == 2 else ""
            people.append(self._person(ids[index], relative, draft, household, spelled))
        return people

    def _person(
        self, pid: str, relative: str, draft: _Draft, home: _Household, spelled: dict[str, str]
    ) -> Person:
        rnd = self._rnd
        phones = self._phones(home.landline)
        hispanic = draft.family_name in self._tables.hispanic_surnames or bool(
            draft.second_family_name
        )
        frequent = FREQUENT_UTILISER_RATE_HOMELESS if home.shelter else FREQUENT_UTILISER_RATE
        return Person(
            person_id=pid,
            household_id=home.household_id,
            relation=draft.relation,
            relative_id=relative,
            sex=draft.sex,
            given_name=draft.given_name,
            middle_name=draft.middle_name,
            family_name=spelled[draft.family_name],
            second_family_name=spelled[draft.second_family_name],
            previous_family_name=spelled[draft.previous_family_name],
            name_change_time=draft.name_change_time,
            suffix=draft.suffix,
            birth_date=draft.birth_date,
            places=home.places,
            move_time=home.move_time,
            shelter=home.shelter,
            phones=phones,
            phone_change_time=rnd.uniform(0.1, 0.9) if len(phones) > 1 else 1.0,
            ssn=self._ssn(),
            language=self._language(hispanic),
            frequent_utiliser=rnd.random() < frequent,
            habits=tuple(sorted(draft.habits)),
            lineage=draft.lineage,
            alias=draft.alias,
        )

    def _phones(self, landline: str) -> tuple[str, ...]:
        """No phone, one (maybe the household landline), or one replaced by another."""
        rnd = self._rnd
        if rnd.random() >= PHONE_RATE:
            return ()
        first = landline if landline and rnd.random() < 0.6 else self._phone()
        return (first, self._phone()) if rnd.random() < SECOND_PHONE_RATE else (first,)

    # -- single draws -------------------------------------------------------------

    def _draft(self, sex: str, born: date, family: str, hispanic: bool, rel: str) -> _Draft:
        draft = _Draft(sex, born, self._given(sex, hispanic), family, rel)
        if self._rnd.random() < MIDDLE_NAME_RATE:
            draft.middle_name = self._distinct_given(sex, hispanic, draft.given_name, False)
        return draft

    def _maybe_change_name(self, draft: _Draft) -> None:
        """Give some women a surname change (marriage or divorce) within the period."""
        adult = (REFERENCE_DATE - draft.birth_date).days > 20 * 365
        if draft.sex == "F" and adult and self._rnd.random() < OTHER_NAME_CHANGE_RATE:
            draft.previous_family_name = draft.family_name
            draft.family_name = self._surname()[0]
            draft.name_change_time = self._rnd.uniform(0.15, 0.85)

    def _int(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]; cheaper than ``randint`` for millions of draws."""
        return low + int(self._rnd.random() * (high - low + 1))

    def _sex(self) -> str:
        return "F" if self._rnd.random() < 0.5 else "M"

    def _age(self) -> int:
        low, high = AGE_BANDS.pick(self._rnd)
        return self._int(low, high)

    def _birth(self, age: int) -> date:
        """A birth date that makes the person exactly ``age`` on the reference date."""
        birthday = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)  # 31 Dec: no leap issue
        return date.fromordinal(birthday.toordinal() - self._int(0, 364))

    def _surname(self) -> tuple[str, str, bool]:
        """Return (surname, maternal surname or "", Hispanic?)."""
        family = self._tables.surnames.pick(self._rnd)
        hispanic = family in self._tables.hispanic_surnames
        second = ""
        if hispanic and "-" not in family and self._rnd.random() < DOUBLE_SURNAME_RATE:
            second = self._tables.surnames_hispanic.pick(self._rnd)
        return family, second, hispanic

    def _given(self, sex: str, hispanic: bool) -> str:
        tables = self._tables
        if hispanic and self._rnd.random() < HISPANIC_GIVEN_RATE:
            return self._accent(tables.given_hispanic[sex].pick(self._rnd))
        return tables.given[sex].pick(self._rnd)

    def _distinct_given(self, sex: str, hispanic: bool, other: str, alliterate: bool) -> str:
        name = other
        for _ in range(30):
            name = self._given(sex, hispanic)
            if name != other and (not alliterate or name[0] == other[0]):
                return name
        return name if name != other else self._tables.given[sex].values[0]

    def _accent(self, name: str) -> str:
        accented = self._tables.accented.get(name)
        return accented if accented and self._rnd.random() < ACCENT_RATE else name

    def _display(self, surname: str) -> str:
        """Spell a Hispanic surname with its accents for most of the people who carry it."""
        return self._accent(surname) if surname in self._tables.hispanic_surnames else surname

    def _place(self) -> Place:
        rnd = self._rnd
        roll = rnd.random()
        if roll < 0.2:
            number = self._int(1, 99)
        elif roll < 0.65:
            number = self._int(100, 999)
        else:
            number = self._int(1000, 9999)
        unit = ""
        if rnd.random() < 0.35:
            unit = str(self._int(1, 40)) + rnd.choice(("", "", "", "A", "B", "C"))
        city, postcode = self._tables.cities.pick(rnd)
        return Place(str(number), self._tables.streets.pick(rnd), unit, city, postcode)

    def _phone(self) -> str:
        rnd = self._rnd
        return f"{rnd.choice(AREA_CODES)}{self._int(200, 999)}{self._int(0, 9999):04d}"

    def _ssn(self) -> str:
        area = self._int(1, 898)
        area = area + 1 if area >= 666 else area
        return f"{area:03d}{self._int(1, 99):02d}{self._int(1, 9999):04d}"

    def _language(self, hispanic: bool) -> str:
        roll = self._rnd.random()
        if hispanic:
            return "Spanish" if roll < 0.45 else "English"
        return OTHER_LANGUAGES.pick(self._rnd) if roll < 0.06 else "English"
