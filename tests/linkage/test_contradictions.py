"""Hard contradictions between encoded records: twins, juniors/seniors, SSNs."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.match.clustering import CLUSTER_CONTRADICTION, NO_CONTRADICTION, PAIR_CONTRADICTION
from linkage.match.contradictions import contradictions
from tests.linkage.helpers import table_of

BASE = {
    "given_name": "Daniel", "family_name": "Okafor", "birth_date": "1990-05-04",
    "street_address": "12 Oak St", "ssn": "123-45-6780",
}  # fmt: skip


@pytest.mark.parametrize(
    ("other", "severity"),
    [
        ({}, NO_CONTRADICTION),
        ({"given_name": "David", "ssn": "123-45-6781"}, PAIR_CONTRADICTION),  # twins
        ({"ssn": "123-45-6781"}, NO_CONTRADICTION),  # one name: a slip in the last digit
        ({"given_name": "Daniel Jr"}, NO_CONTRADICTION),  # one suffix only
        ({"ssn": "", "birth_date": "1962-11-20"}, CLUSTER_CONTRADICTION),  # father
        ({"birth_date": "1962-11-20"}, NO_CONTRADICTION),  # both SSNs: the SSN decides
        ({"ssn": "", "birth_date": "1909-05-04"}, NO_CONTRADICTION),  # same day: a slip
        ({"ssn": "", "birth_date": "1984-11-20"}, NO_CONTRADICTION),  # under 10 years
        (
            {"given_name": "Maria", "birth_date": "1971-02-13", "ssn": "587-22-1934"},
            PAIR_CONTRADICTION,
        ),
    ],
)
def test_contradiction_severity(other: dict[str, str], severity: int) -> None:
    table = table_of([BASE, {**BASE, **other}])
    got = contradictions(table, np.array([0]), np.array([1]))
    assert got.tolist() == [severity]


def test_generational_suffixes_that_differ_contradict() -> None:
    table = table_of([{**BASE, "given_name": "Daniel Jr"}, {**BASE, "given_name": "Daniel Sr"}])
    assert contradictions(table, np.array([0]), np.array([1])).tolist() == [PAIR_CONTRADICTION]
