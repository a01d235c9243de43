"""Reference tables the synthetic generator draws from, read from ``fixtures/names``.

The tables are plain CSV fixtures typed for this project: US given names by sex
and surnames with census-like (Zipf-shaped) frequencies and a ``hispanic``
origin flag, nickname and spelling-variant lists, accented spellings, streets,
the cities and ZIP codes of the fictional Larkin County, and its shelters.
:class:`Weighted` turns a frequency column into a sampler; :func:`load_tables`
reads everything once per process.
"""

from __future__ import annotations

import bisect
import csv
import functools
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"
NAMES_DIR = FIXTURES_DIR / "names"

T = TypeVar("T")


@dataclass(frozen=True)
class Weighted(Generic[T]):
    """A finite distribution over values, sampled by inverse CDF.

    Attributes:
        values: The outcomes.
        cumulative: Running totals of the weights, same length as ``values``.
    """

    values: tuple[T, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[T], weights: Sequence[float]) -> Weighted[T]:
        """Build a sampler from parallel sequences of values and positive weights."""
        if not values or len(values) != len(weights):
            raise ValueError("values and weights must be non-empty and of equal length")
        totals = np.cumsum(np.asarray(weights, dtype=np.float64))
        return cls(tuple(values), tuple(float(x) for x in totals))

    def pick(self, rnd: random.Random) -> T:
        """Draw one value."""
        cumulative = self.cumulative
        index = bisect.bisect_right(cumulative, rnd.random() * cumulative[-1])
        return self.values[index] if index < len(cumulative) else self.values[-1]


def choose(options: Sequence[T], uniform: Callable[[], float]) -> T:
    """Pick one option uniformly; faster than ``random.choice`` on the hot path."""
    return options[int(uniform() * len(options))]


@dataclass(frozen=True, slots=True)
class Place:
    """A street address in the region, split into its parts."""

    number: str
    street: str
    unit: str
    city: str
    postcode: str


@dataclass(frozen=True)
class NameTables:
    """Everything the generator reads from the fixtures.

    Attributes:
        given: Given-name samplers by sex (``"F"``/``"M"``) over the whole table.
        given_hispanic: Given-name samplers by sex restricted to Hispanic names.
        surnames: Surname sampler over the whole table.
        surnames_hispanic: Surname sampler restricted to Hispanic surnames.
        hispanic_surnames: The set of surnames flagged Hispanic.
        nicknames: Lower-case canonical name to its nicknames.
        variants: Lower-case name to its other spellings (Smith/Smyth).
        accented: Plain spelling to its accented spelling (Jose/José).
        streets: Street sampler (``"Main St"``, ``"N 5th St"``...).
        cities: Sampler over (city, postcode) pairs weighted by population.
        shelters: Shelter addresses used by people without a home.
    """

    given: dict[str, Weighted[str]]
    given_hispanic: dict[str, Weighted[str]]
    surnames: Weighted[str]
    surnames_hispanic: Weighted[str]
    hispanic_surnames: frozenset[str]
    nicknames: dict[str, tuple[str, ...]]
    variants: dict[str, tuple[str, ...]]
    accented: dict[str, str]
    streets: Weighted[str]
    cities: Weighted[tuple[str, str]]
    shelters: tuple[Place, ...]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _name_samplers(rows: list[dict[str, str]]) -> tuple[Weighted[str], Weighted[str]]:
    """Return (all names, Hispanic names) samplers for one frequency table."""
    everyone = Weighted.of([r["name"] for r in rows], [float(r["frequency"]) for r in rows])
    hispanic = [r for r in rows if r["origin"] == "hispanic"]
    only = Weighted.of([r["name"] for r in hispanic], [float(r["frequency"]) for r in hispanic])
    return everyone, only


def _nicknames(rows: list[dict[str, str]]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        found[row["name"].lower()].append(row["nickname"])
    return {name: tuple(nicks) for name, nicks in found.items()}


def _variants(rows: list[dict[str, str]]) -> dict[str, tuple[str, ...]]:
    """Merge overlapping spelling groups, then map each name to the others in its group."""
    groups: list[set[str]] = []
    by_group: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_group[row["group"]].add(row["name"])
    for members in by_group.values():
        overlapping = [g for g in groups if g & members]
        merged = set(members).union(*overlapping)
        groups = [g for g in groups if not g & members] + [merged]
    out: dict[str, tuple[str, ...]] = {}
    for group in groups:
        for name in group:
            out[name.lower()] = tuple(sorted(other for other in group if other != name))
    return out


def _shelters(rows: list[dict[str, str]]) -> tuple[Place, ...]:
    places = []
    for row in rows:
        number, street = row["street_address"].split(" ", 1)
        places.append(Place(number, street, "", row["city"], row["postcode"]))
    return tuple(places)


@functools.cache
def load_tables(names_dir: Path = NAMES_DIR) -> NameTables:
    """Read the fixture tables once.

    Args:
        names_dir: Folder holding the name, street and place CSVs.

    Returns:
        The parsed tables with ready-to-use samplers.
    """
    female, female_h = _name_samplers(_rows(names_dir / "given_names_female.csv"))
    male, male_h = _name_samplers(_rows(names_dir / "given_names_male.csv"))
    surname_rows = _rows(names_dir / "surnames.csv")
    surnames, surnames_h = _name_samplers(surname_rows)
    streets = _rows(names_dir / "streets.csv")
    cities = _rows(names_dir / "cities.csv")
    return NameTables(
        given={"F": female, "M": male},
        given_hispanic={"F": female_h, "M": male_h},
        surnames=surnames,
        surnames_hispanic=surnames_h,
        hispanic_surnames=frozenset(r["name"] for r in surname_rows if r["origin"] == "hispanic"),
        nicknames=_nicknames(_rows(names_dir / "nicknames.csv")),
        variants=_variants(_rows(names_dir / "spelling_variants.csv")),
        accented={r["plain"]: r["accented"] for r in _rows(names_dir / "accented_names.csv")},
        streets=Weighted.of([r["street"] for r in streets], [float(r["weight"]) for r in streets]),
        cities=Weighted.of(
            [(r["city"], r["postcode"]) for r in cities], [float(r["weight"]) for r in cities]
        ),
        shelters=_shelters(_rows(names_dir / "shelters.csv")),
    )
