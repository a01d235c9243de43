"""The true identity of one synthetic person over the observed period.

Time runs from 0.0 to 1.0 over the period that agency records cover. A
:class:`Person` knows which surname, address and phone were in use at any
time, so a record keyed at time ``t`` starts from the truth at ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tools.synthetic.tables import Place


@dataclass(frozen=True, slots=True)
class Person:
    """The true identity of one synthetic person over the observed period.

    Attributes:
        person_id: Opaque truth id, e.g. ``"P0000042"``.
        household_id: Shared by people who live together.
        relation: ``""``, ``"spouse"``, ``"parent"``, ``"child"``, ``"sibling"``,
            ``"twin"``, ``"junior"`` or ``"senior"``.
        relative_id: The other member of a two-person household, else ``""``.
        sex: ``"F"`` or ``"M"``.
        given_name: Canonical spelling, possibly with diacritics (José).
        middle_name: ``""`` when the person has none.
        family_name: Surname at the end of the period.
        second_family_name: Maternal surname of a Hispanic double surname, or ``""``.
        previous_family_name: Surname before a change during the period, or ``""``.
        name_change_time: When ``previous_family_name`` gave way (1.0 if never).
        suffix: ``""``, ``"Jr"``, ``"Sr"`` or ``"II"``.
        birth_date: True date of birth.
        places: Home addresses in order; a second one means the person moved.
        move_time: When the second place replaced the first (1.0 if never).
        shelter: The shelter a person without a home usually gives, else None.
        phones: Zero, one or two 10-digit numbers, in order of use.
        phone_change_time: When the second phone replaced the first.
        ssn: Nine digits.
        language: Preferred language.
        frequent_utiliser: True for the few people who reach agencies very often.
        habits: Population habits of :mod:`tools.synthetic.city` this person
            carries (``"lineage"``, ``"refugee_dob"``, ...); empty by default.
        lineage: Father's and grandfather's given names for lineage naming.
        alias: An adopted English given name used on some records, or ``""``.
    """

    person_id: str
    household_id: int
    relation: str
    relative_id: str
    sex: str
    given_name: str
    middle_name: str
    family_name: str
    second_family_name: str
    previous_family_name: str
    name_change_time: float
    suffix: str
    birth_date: date
    places: tuple[Place, ...]
    move_time: float
    shelter: Place | None
    phones: tuple[str, ...]
    phone_change_time: float
    ssn: str
    language: str
    frequent_utiliser: bool
    habits: tuple[str, ...] = ()
    lineage: tuple[str, ...] = ()
    alias: str = ""

    @property
    def homeless(self) -> bool:
        """Whether the person has no home of their own."""
        return self.shelter is not None

    def family_name_at(self, time: float) -> str:
        """Surname in use at ``time``."""
        if self.previous_family_name and time < self.name_change_time:
            return self.previous_family_name
        return self.family_name

    def place_at(self, time: float) -> Place:
        """Home address at ``time``."""
        return self.places[-1] if time >= self.move_time else self.places[0]

    def phone_at(self, time: float) -> str:
        """Phone in use at ``time``, or ``""``."""
        if not self.phones:
            return ""
        return self.phones[-1] if time >= self.phone_change_time else self.phones[0]
