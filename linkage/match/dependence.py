"""Correcting Fellegi–Sunter for agreements that go together among non-matches.

The model multiplies the evidence of each comparison as if comparisons were
independent given the class. For *non-matches* that is badly wrong inside a
household: two different people who share a surname very often share the street
address and the landline too (spouses, siblings, a father and his junior). The
independent model prices "same surname and same address" at
``u(surname) · u(address)``, a coincidence of one in millions, when in fact
household members agree on both all the time — and twins, juniors/seniors and
siblings end up linked.

For a *cell* of two exact-token agreements we therefore measure the real share
of record pairs that agree on both, ``P(cell)``, by counting equal token pairs
exactly, and remove the expected matches with the fitted model:
``P(cell) = λ·m_a·m_b + (1 − λ)·u_cell``. The cell's Bayes factor is then
``m_a·m_b / u_cell`` instead of ``m_a·m_b / (u_a·u_b)``: a correction of
``log2(u_a·u_b / u_cell)`` bits (never positive), applied when both agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.match.blocking import BlockingRule, rule_keys
from linkage.table import EncodedTable

__all__ = ["HOUSEHOLD_CELLS", "JointCell", "pair_share"]


@dataclass(frozen=True, slots=True)
class JointCell:
    """Two exact agreements, ``(comparison, level, token)`` each, that co-occur."""

    comparison_a: str
    level_a: int
    token_a: str
    comparison_b: str
    level_b: int
    token_b: str


#: Household-shared identifiers: surname with street address, surname with phone,
#: and surname with birth date (twins).
HOUSEHOLD_CELLS: tuple[JointCell, ...] = (
    JointCell("family_name", 1, "family_name.exact", "address", 1, "street_address.exact"),
    JointCell("family_name", 1, "family_name.exact", "phone", 1, "phone.exact"),
    # Twins: one surname and one birth date, two people (4 % of a population).
    JointCell("family_name", 1, "family_name.exact", "birth_date", 1, "birth_date.exact"),
)


def pair_share(table: EncodedTable, token_a: str, token_b: str) -> float:
    """Share of all record pairs that agree on both tokens (counted exactly)."""
    n = len(table)
    if n < 2:
        return 0.0
    _, keys = rule_keys(table, BlockingRule((token_a, token_b)))
    _, counts = np.unique(keys, return_counts=True)
    agreeing = float((counts * (counts - 1) / 2).sum())
    return agreeing / (n * (n - 1) / 2)
