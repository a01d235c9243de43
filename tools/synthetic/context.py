"""Agency context columns: short, plausible, often empty synthetic values.

Context is what a responder reads once a person is resolved (safety flags,
crisis plan, language, shelter status). Values are drawn once per person and
agency, so repeat records agree, and then left blank on some records, as busy
staff do. None of it identifies anyone; clinician and case-manager names are
drawn from the surname table with an initial.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tools.synthetic.person import Person
from tools.synthetic.tables import NameTables

WEAPONS = ("knife reported", "firearm in home", "bat in vehicle", "prior weapons charge")
SAFETY_NOTES = (
    "history of assault on officer", "large dog on premises", "escalates with uniforms",
    "prefers female officer", "hard of hearing - use written notes", "autism - avoid sirens",
    "flight risk", "calm with de-escalation",
)  # fmt: skip
CRISIS_PLANS = (
    "Call sister before any transport", "Prefers quiet space; de-escalate verbally",
    "Safety plan on file; triggers: crowds", "Walk-in crisis center preferred over ED",
    "Peer support specialist preferred", "Mobile crisis team first; avoid restraint",
    "Responds well to music; allow headphones",
)  # fmt: skip
SUBSTANCE_NOTES = (
    "alcohol use disorder, in remission", "opioid use; naloxone kit provided",
    "methamphetamine use reported", "daily cannabis use", "no current use reported",
    "in MAT program",
)  # fmt: skip
MEDICAL_ALERTS = (
    "diabetic", "seizure disorder", "COPD - home oxygen", "pacemaker",
    "allergy: penicillin", "anticoagulants",
)  # fmt: skip
HOUSED_STATUS = ("housed", "at risk", "doubled up")
UNHOUSED_STATUS = ("sheltered", "unsheltered", "transitional housing")
KEEP_RATE = 0.8


class ContextMaker:
    """Draws agency context for one person, then per record.

    Args:
        rnd: Random stream.
        tables: Name tables, for staff names.
    """

    def __init__(self, rnd: random.Random, tables: NameTables) -> None:
        self._rnd = rnd
        self._tables = tables
        self._makers: dict[str, Callable[[Person], dict[str, str]]] = {
            "police_cad": self._police,
            "behavioral_health": self._behavioral_health,
            "homeless_services": self._homeless_services,
            "ems": self._ems,
        }

    def for_person(self, agency: str, person: Person) -> dict[str, str]:
        """Context values an agency holds about a person (may be empty strings)."""
        return self._makers[agency](person)

    def for_record(self, values: dict[str, str]) -> dict[str, str]:
        """Blank some of a person's values on one record."""
        rnd = self._rnd
        return {k: v if rnd.random() < KEEP_RATE else "" for k, v in values.items()}

    def _some(self, rate: float, options: tuple[str, ...]) -> str:
        return self._rnd.choice(options) if self._rnd.random() < rate else ""

    def _staff(self, title: str = "") -> str:
        initial = chr(ord("A") + self._rnd.randrange(26))
        return f"{title}{initial}. {self._tables.surnames.pick(self._rnd)}"

    def _police(self, person: Person) -> dict[str, str]:
        language = person.language.upper() if person.language != "English" else ""
        return {
            "weapons": self._some(0.12, WEAPONS),
            "officer_safety_note": self._some(0.1, SAFETY_NOTES),
            "language": language,
        }

    def _behavioral_health(self, person: Person) -> dict[str, str]:
        other = person.language != "English"
        return {
            "crisis_plan": self._some(0.45, CRISIS_PLANS),
            "clinician_contact": self._staff("Dr. ") if self._rnd.random() < 0.7 else "",
            "language": person.language,
            "interpreter_needed": "Y" if other and self._rnd.random() < 0.6 else "N",
            "substance_use_note": self._some(0.2, SUBSTANCE_NOTES),
        }

    def _homeless_services(self, person: Person) -> dict[str, str]:
        status = UNHOUSED_STATUS if person.homeless else HOUSED_STATUS
        return {
            "shelter_status": self._rnd.choice(status),
            "case_manager": self._staff() if self._rnd.random() < 0.8 else "",
            "language": person.language.lower(),
        }

    def _ems(self, person: Person) -> dict[str, str]:
        return {
            "medical_alert": self._some(0.25, MEDICAL_ALERTS),
            "language": person.language if person.language != "English" else "",
        }
