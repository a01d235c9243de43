"""City habits of the synthetic generator: switched on by name, labelled per record."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from tools.synthetic import PROFILES, generate, write_dataset
from tools.synthetic.city import CITY_HABITS, parse_habits


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return generate(3000, seed=11, agencies=tuple(PROFILES), habits="all")


def test_default_output_is_unchanged_by_the_city_code() -> None:
    assert generate(200, seed=4).records == generate(200, seed=4, habits=()).records
    assert generate(200, seed=4).records != generate(200, seed=4, habits="all").records


def test_unknown_habits_are_refused() -> None:
    assert parse_habits("all") == frozenset(CITY_HABITS)
    assert parse_habits("none") == frozenset()
    with pytest.raises(ValueError, match="unknown habits"):
        parse_habits("twins,telepathy")


def test_every_city_habit_labels_some_records(city) -> None:  # type: ignore[no-untyped-def]
    seen = Counter(h for labels in city.habits.values() for h in labels)
    label = {"twins": "twin"}  # the habit makes twins alike; their records say "twin"
    assert {h for h in CITY_HABITS if not seen[label.get(h, h)]} == set()
    assert len(city.habits) == sum(len(rows) for rows in city.records.values())


def test_twins_often_have_consecutive_ssns(city) -> None:  # type: ignore[no-untyped-def]
    twins = [p for p in city.people.values() if p.relation == "twin" and p.relative_id]
    consecutive = sum(
        abs(int(p.ssn[5:]) - int(city.people[p.relative_id].ssn[5:])) == 1 for p in twins
    )
    assert 0.5 < consecutive / len(twins) <= 0.8


def test_approximate_dates_are_first_of_january_a_year_late_at_most(city) -> None:  # type: ignore[no-untyped-def]
    person_of = {(a, r): p for a, r, p in city.truth}
    rows = {(a, row["record_id"]): row for a, rs in city.records.items() for row in rs}
    checked = 0
    for key, labels in city.habits.items():
        if "approximate_dob" in labels and key[0] == "ems":
            text = rows[key]["birth_date"]
            year = int(re.findall(r"\d{4}", text)[0])
            true_year = city.people[person_of[key]].birth_date.year
            assert year - true_year in (0, 1)
            assert text.replace("-", "/") in (f"01/01/{year}", f"{year}0101", f"{year}/01/01")
            checked += 1
    assert checked > 50


def test_habits_csv_names_each_record(tmp_path: Path, city) -> None:  # type: ignore[no-untyped-def]
    write_dataset(city, tmp_path)
    with (tmp_path / "habits.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(city.habits)
    assert {tuple(filter(None, r["habits"].split(";"))) for r in rows} <= set(city.habits.values())
