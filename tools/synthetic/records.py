"""Agency records: one person's contacts with an agency, keyed in with that agency's habits.

:func:`plan_contacts` decides which agencies know a person and how often
(most people one or two records in all, a few frequent utilisers ten or more);
:class:`RecordMaker` writes each contact as a row in the canonical layout,
taking the truth at the time of contact (surname before or after a change,
address before or after a move) and applying the agency's error habits from
:mod:`tools.synthetic.profiles`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
from collections.abc import Callable, Sequence

from tools.synthetic import habits
from tools.synthetic.city import CityRecords
from tools.synthetic.context import ContextMaker
from tools.synthetic.person import Person
from tools.synthetic.profiles import AgencyProfile
from tools.synthetic.tables import NameTables, Place, choose

AGENCY_COUNTS = (0.68, 0.25, 0.07)  # P(known to 1, 2, 3 agencies)
SUFFIXES = {"Jr": ("Jr", "JR", "Jr."), "II": ("II",), "Sr": ("Sr", "SR", "Sr.")}
HOMELESS_MARKERS = ("HOMELESS", "TRANSIENT", "NO FIXED ADDRESS", "Unhoused")
PLACEHOLDER_SSNS = ("000-00-0000", "999-99-9999", "123-45-6789")
WRONG_SEX_RATE = 0.005
# Frequent utilisers are met in crisis more often than not, so more of their records are sloppy.
FREQUENT_SLOPPY_FACTOR = 2.0
NAME_FIELDS = ("given_name", "middle_name", "family_name")
#: Population habits that label every record of the person who has them.
PERSON_LABELS = frozenset({"common_name", "refugee_dob"})
CASED_FIELDS = (*NAME_FIELDS, "street_address", "city")


def plan_contacts(
    person: Person, profiles: Sequence[AgencyProfile], rnd: random.Random
) -> list[tuple[AgencyProfile, list[float]]]:
    """Choose the agencies that know a person and the times of each contact.

    Args:
        person: The person.
        profiles: Agencies taking part.
        rnd: Random stream.

    Returns:
        (agency, sorted contact times in [0, 1)) for each agency that knows the person.
    """
    uniform = rnd.random
    wanted = _index(_cumulative(AGENCY_COUNTS[: len(profiles)]), uniform()) + 1
    if person.frequent_utiliser:
        wanted = len(profiles) if uniform() < 0.7 else min(2, len(profiles))
    pool = list(profiles)
    plan = []
    for _ in range(wanted):
        reach = tuple(p.homeless_reach if person.homeless else p.reach for p in pool)
        profile = pool.pop(_index(_cumulative(reach), uniform()))
        if person.frequent_utiliser:
            low, high = profile.frequent_counts
            count = low + int(uniform() * (high - low + 1))
        else:
            count = _index(_cumulative(profile.count_weights), uniform()) + 1
        plan.append((profile, sorted(uniform() for _ in range(count))))
    return plan


def sloppy_share(profile: AgencyProfile, person: Person) -> float:
    """Share of a person's records at an agency that are keyed in a hurry."""
    factor = FREQUENT_SLOPPY_FACTOR if person.frequent_utiliser else 1.0
    return min(1.0, profile.sloppy * factor)


@functools.cache
def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    """Running totals of ``weights``, normalised to end at 1 (cached: few distinct inputs)."""
    total = sum(weights)
    return tuple(itertools.accumulate(w / total for w in weights))


def _index(cumulative: tuple[float, ...], uniform: float) -> int:
    return min(bisect.bisect_right(cumulative, uniform), len(cumulative) - 1)


class RecordMaker:
    """Writes one agency's rows for a person.

    Args:
        profile: The agency's habits.
        tables: Name tables (nicknames, variants, shelters).
        rnd: Random stream.
        context: Maker of the agency's context columns.
    """

    def __init__(
        self,
        profile: AgencyProfile,
        tables: NameTables,
        rnd: random.Random,
        context: ContextMaker,
        city: frozenset[str] = frozenset(),
    ) -> None:
        self.profile = profile
        self._clean = profile
        self._hurried = profile.hurried()
        self._tables = tables
        self._rnd = rnd
        self._random = rnd.random  # bound once: this is the hottest call in the generator
        self._context = context
        # City habits draw from the stream only when on: the default output is unchanged.
        self._city = CityRecords(city, profile.name, rnd) if city else None
        self._wrong_sex = 0.03 if "sex_miscoded" in city else WRONG_SEX_RATE
        self._labels: list[str] = []

    def rows(self, person: Person, times: Sequence[float]) -> list[dict[str, str]]:
        """Rows for each contact time; ``record_id`` is left empty for the caller."""
        return [row for row, _ in self.labelled_rows(person, times)]

    def labelled_rows(
        self, person: Person, times: Sequence[float]
    ) -> list[tuple[dict[str, str], tuple[str, ...]]]:
        """:meth:`rows`, each with the sorted habit labels that shaped it."""
        ssn_known = self._random() < self._clean.ssn_known
        values = self._context.for_person(self._clean.name, person)
        out = []
        for t in times:
            row = self._row(person, t, ssn_known, values)
            out.append((row, tuple(sorted(set(self._labels)))))
        return out

    def _person_labels(self, person: Person, time: float) -> list[str]:
        """Habits of the person behind a record, as of the contact time."""
        labels = [h for h in person.habits if h in PERSON_LABELS]
        if person.relation in ("twin", "junior", "senior"):
            labels.append("twin" if person.relation == "twin" else "junior_senior")
        if person.shelter is not None:
            labels.append("shelter")
        if len(person.places) > 1 and time >= person.move_time:
            labels.append("moved")
        if person.previous_family_name:
            labels.append("name_changed")
        return labels

    def _row(
        self, person: Person, time: float, ssn_known: bool, values: dict[str, str]
    ) -> dict[str, str]:
        # Errors cluster: a record keyed in a hurry gets several at once.
        hurried = self._random() < sloppy_share(self._clean, person)
        self.profile = self._hurried if hurried else self._clean
        self._labels = self._person_labels(person, time)
        if hurried:
            self._labels.append("hurried")
        named = person if self._city is None else self._city.person_for_record(person, self._labels)
        given, middle, family = self._names(named, time)
        street, city, postcode = self._address(person, time)
        row = {
            "record_id": "",
            "given_name": given,
            "middle_name": middle,
            "family_name": family,
            "birth_date": self._birth_date(person, time),
            "sex": self._sex(person),
            "street_address": street,
            "city": city,
            "postcode": postcode,
            "phone": self._phone(person, time),
            "ssn": self._ssn(person, ssn_known),
        }
        self._apply_case(row)
        self._apply_noise(row)
        row.update(self._context.for_record(values))
        return row

    def _marker(self) -> str:
        return choose(self.profile.missing_markers, self._random)

    # -- names ---------------------------------------------------------------------

    def _names(self, person: Person, time: float) -> tuple[str, str, str]:
        given, middle = self._given_and_middle(person)
        family = self._family(person, time)
        if person.second_family_name:
            family, middle = self._double_surname(family, person.second_family_name, middle)
        family = self._respell_family(family)
        given, family = self._suffix(person, given, family)
        if self._random() < self.profile.name_swap:
            given, family = family, given
            self._labels.append("name_order")
        if self._random() < self.profile.strip_diacritics:
            given, middle, family = (habits.strip_accents(n) for n in (given, middle, family))
        if self._city is not None:
            given, middle, family = self._city.structure(
                person, (given, middle, family), self._labels
            )
        return given, middle, family

    def _given_and_middle(self, person: Person) -> tuple[str, str]:
        p, rnd = self.profile, self._rnd
        given, middle = person.given_name, self._middle(person.middle_name)
        if self._random() < p.given_missing:
            return self._marker() or "UNKNOWN", middle
        key = habits.strip_accents(given).lower()
        nicknames = self._tables.nicknames.get(key)
        variants = self._tables.variants.get(key)
        if person.middle_name and self._random() < p.middle_as_given:
            given, middle = person.middle_name, given if self._random() < 0.5 else ""
            self._labels.append("middle_as_given")
        elif self._random() < p.nickname and nicknames:
            given = choose(nicknames, self._random)
            self._labels.append("nickname")
        elif self._random() < p.given_variant and variants:
            given = choose(variants, self._random)
            self._labels.append("spelling_variant")
        if self._random() < p.given_typo:
            given = habits.typo(given, rnd)
            self._labels.append("typo")
        return given, middle

    def _middle(self, middle: str) -> str:
        if not middle or self._random() < self.profile.middle_missing:
            return ""
        if self._random() < self.profile.middle_initial:
            return middle[0] + ("." if self._random() < 0.3 else "")
        return middle

    def _family(self, person: Person, time: float) -> str:
        name = person.family_name_at(time)
        if person.previous_family_name and time >= person.name_change_time:
            roll = self._rnd.random()
            if roll < self.profile.stale_surname:
                name = person.previous_family_name
            elif roll < self.profile.stale_surname + self.profile.hyphenated_surname:
                name = f"{person.previous_family_name}-{person.family_name}"
        return name

    def _double_surname(self, family: str, second: str, middle: str) -> tuple[str, str]:
        """Write a Hispanic double surname in full, hyphenated, cut, or split into the middle.

        With the ``double_surname`` city habit, some records also reverse the
        order or keep only the second surname.
        """
        self._labels.append("double_surname")
        if self._city is not None and "double_surname" in self._city.enabled:
            roll = self._rnd.random()
            if roll < 0.12:
                return f"{second} {family}", middle
            if roll < 0.24:
                return second, middle
        roll = self._rnd.random()
        if roll < 0.45:
            return f"{family} {second}", middle
        if roll < 0.6:
            return f"{family}-{second}", middle
        if roll < 0.9 or middle:
            return family, middle
        return family, second

    def _respell_family(self, family: str) -> str:
        p, rnd = self.profile, self._rnd
        variants = self._tables.variants.get(habits.strip_accents(family).lower())
        if self._random() < p.family_variant and variants:
            family = choose(variants, self._random)
            self._labels.append("spelling_variant")
        if self._random() < p.particle_variant and habits.has_particle(family):
            family = habits.particle_variant(family, rnd)
        if self._random() < p.family_typo:
            family = habits.typo(family, rnd)
            self._labels.append("typo")
        return family

    def _suffix(self, person: Person, given: str, family: str) -> tuple[str, str]:
        rate = self.profile.suffix_shown * (0.5 if person.suffix == "Sr" else 1.0)
        if not person.suffix or not self._random() < rate:
            return given, family
        text = choose(SUFFIXES[person.suffix], self._random)
        roll = self._rnd.random()
        if roll < 0.6:
            return given, f"{family} {text}"
        if roll < 0.85:
            return f"{given} {text}", family
        return given, f"{family}, {text}"

    # -- case and noise ------------------------------------------------------------------

    def _case_style(self) -> Callable[[str], str]:
        style = self.profile.case_style
        if style == "mixed":
            roll = self._rnd.random()
            style = "title" if roll < 0.5 else "upper" if roll < 0.85 else "lower"
        return {"upper": str.upper, "lower": str.lower}.get(style, str)

    def _apply_case(self, row: dict[str, str]) -> None:
        style = self._case_style()
        if style is not str:
            for key in CASED_FIELDS:
                row[key] = style(row[key])

    def _apply_noise(self, row: dict[str, str]) -> None:
        if self._random() < self.profile.case_noise:
            self._mangle(row, habits.case_noise)
        if self._random() < self.profile.whitespace_noise:
            self._mangle(row, habits.whitespace_noise)

    def _mangle(self, row: dict[str, str], habit: Callable[[str, random.Random], str]) -> None:
        filled = [key for key in NAME_FIELDS if row[key]]
        if filled:
            key = choose(filled, self._random)
            row[key] = habit(row[key], self._rnd)

    # -- other identifiers ---------------------------------------------------------------

    def _birth_date(self, person: Person, time: float) -> str:
        p = self.profile
        if self._random() < p.dob_missing:
            self._labels.append("dob_missing")
            return self._marker()
        value = person.birth_date
        special = None if self._city is None else self._city.birth_date(person, time, self._labels)
        if special is not None:
            value = special
        elif self._random() < p.dob_error:
            value = habits.misdate(value, self._rnd)
            self._labels.append("dob_error")
        return habits.format_date(value, p.date_formats.pick(self._rnd))

    def _sex(self, person: Person) -> str:
        if self._random() < self.profile.sex_missing:
            return choose((*self.profile.missing_markers, "U"), self._random)
        female, male = choose(self.profile.sex_codes, self._random)
        is_female = (person.sex == "F") != (self._random() < self._wrong_sex)
        if is_female != (person.sex == "F"):
            self._labels.append("sex_miscoded")
        return female if is_female else male

    def _phone(self, person: Person, time: float) -> str:
        desk = None if self._city is None else self._city.desk_phone(person, self._labels)
        if desk is not None:
            return habits.format_phone(desk, self.profile.phone_formats.pick(self._rnd))
        number = person.phone_at(time)
        if not number or self._random() < self.profile.phone_missing:
            return self._marker()
        return habits.format_phone(number, self.profile.phone_formats.pick(self._rnd))

    def _ssn(self, person: Person, known: bool) -> str:
        p = self.profile
        if not known or self._random() < p.ssn_missing:
            return (
                choose(PLACEHOLDER_SSNS, self._random) if self._random() < 0.03 else self._marker()
            )
        digits = person.ssn
        if self._random() < p.ssn_typo:
            digits = habits.digit_slip(person.ssn, self._rnd)
            self._labels.append("ssn_typo")
        return habits.format_ssn(digits, self._random() < p.ssn_dashes)

    # -- address -----------------------------------------------------------------------------

    def _address(self, person: Person, time: float) -> tuple[str, str, str]:
        if person.shelter is not None:
            return self._homeless_address(person, person.shelter, time)
        place = person.place_at(time)
        if place is not person.places[0] and self._random() < self.profile.stale_address:
            place = person.places[0]
        if self._random() < self.profile.address_missing:
            keep_city = self._random() < 0.5
            city = place.city if keep_city else self._marker()
            postcode = place.postcode if keep_city and self._random() < 0.5 else self._marker()
            return self._marker(), city, postcode
        return self._spell(place)

    def _homeless_address(
        self, person: Person, shelter: Place, time: float
    ) -> tuple[str, str, str]:
        kind = self.profile.homeless_address.pick(self._rnd)
        if kind == "shelter":
            if self._random() < 0.3:
                shelter = choose(self._tables.shelters, self._random)
            return self._spell(shelter)
        if kind == "marker":
            city = shelter.city if self._random() < 0.5 else self._marker()
            return choose(HOMELESS_MARKERS, self._random), city, self._marker()
        if kind == "blank":
            return self._marker(), self._marker(), self._marker()
        return self._spell(person.place_at(time))

    def _spell(self, place: Place) -> tuple[str, str, str]:
        p, rnd = self.profile, self._rnd
        street = habits.spell_street(place, p.street_styles.pick(rnd), rnd)
        if self._random() < p.address_typo:
            street = habits.typo(street, rnd)
            self._labels.append("typo")
        city = place.city
        if self._random() < 0.1:
            city = habits.abbreviate_city(city)
        if self._random() < p.address_typo / 2:
            city = habits.typo(city, rnd)
        postcode = place.postcode
        if self._random() < p.postcode_missing:
            postcode = self._marker()
        elif self._random() < 0.05:
            postcode = f"{postcode}-{rnd.randint(1, 9999):04d}"
        elif self._random() < 0.01:
            postcode = habits.digit_slip(postcode, rnd)
        return street, city, postcode
