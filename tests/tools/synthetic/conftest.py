"""Shared synthetic sample for the generator tests (drawn once per session)."""

from __future__ import annotations

import pytest

from tools.synthetic import Person, SyntheticDataset, generate

Row = dict[str, str]


@pytest.fixture(scope="session")
def sample() -> SyntheticDataset:
    """A mid-size data set: 8,000 people, about 17,000 records."""
    return generate(8000, seed=20240601)


@pytest.fixture(scope="session")
def observed(sample: SyntheticDataset) -> dict[str, list[tuple[Row, Person]]]:
    """Each agency's rows paired with the true person behind them."""
    person_of = {(agency, rid): pid for agency, rid, pid in sample.truth}
    return {
        agency: [(row, sample.people[person_of[agency, row["record_id"]]]) for row in rows]
        for agency, rows in sample.records.items()
    }
