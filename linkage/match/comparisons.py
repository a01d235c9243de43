"""Comparisons: how two records agree, field by field, as discrete *levels*.

Following the Fellegi–Sunter tradition (and splink's vocabulary), each comparison
maps a pair of records to one of an ordered list of levels: the **null level**
first (a value is missing on either side — it carries no evidence), then levels
from the strongest agreement to the weakest, and an **else level** last. For
example, given names: exact → nickname of the same formal name → very similar
spelling (Dice of Bloom filters) → same phonetic code → somewhat similar → else.

Correlated fields are folded into one comparison so that the model does not count
the same evidence twice: street, city and postcode move together when a person
moves, so they form one ``address`` comparison.

All work is vectorised over arrays of candidate pairs. Similarities of hardened
(balanced) filters live on a compressed scale (see :mod:`linkage.encode.bloom`), hence the
thresholds below, which were calibrated on typo'd names and dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from linkage.table import EncodedTable

__all__ = ["COMPARISONS", "Comparison", "PairContext", "comparison_levels"]

Bool = npt.NDArray[np.bool_]
Levels = npt.NDArray[np.int8]


class PairContext:
    """Lazily computed agreement facts for arrays of pairs ``(left[i], right[i])``."""

    def __init__(
        self, table: EncodedTable, left: npt.NDArray[np.int64], right: npt.NDArray[np.int64]
    ) -> None:
        self.table = table
        self.left = left
        self.right = right
        self._dice: dict[str, npt.NDArray[np.float32]] = {}

    def __len__(self) -> int:
        return len(self.left)

    def present(self, token: str) -> Bool:
        """Both records carry ``token``."""
        col = self.table.token(token)
        out: Bool = (col[self.left] != 0) & (col[self.right] != 0)
        return out

    def eq(self, token: str) -> Bool:
        """Both records carry ``token`` and it is equal."""
        col = self.table.token(token)
        a = col[self.left]
        out: Bool = (a != 0) & (a == col[self.right])
        return out

    def cross_eq(self, token_a: str, token_b: str) -> Bool:
        """``token_a`` of the left record equals ``token_b`` of the right (shared key)."""
        a, b = self.table.token(token_a)[self.left], self.table.token(token_b)[self.right]
        out: Bool = (a != 0) & (a == b)
        return out

    def names_swapped(self) -> Bool:
        """Given and family names entered the other way round (phonetically)."""
        g, f = "given_name.phonetic", "family_name.phonetic"
        return self.cross_eq(g, f) & self.cross_eq(f, g) & ~self.eq(g)

    def given_is_middle(self) -> Bool:
        """One record's given name is the other's middle name (shared token key)."""
        g, m = "given_name.exact", "middle_name.exact"
        return self.cross_eq(g, m) | self.cross_eq(m, g)

    def names_crossed(self) -> Bool:
        """One record's given name is the other's family name (one-sided swap)."""
        g, f = "given_name.phonetic", "family_name.phonetic"
        return self.cross_eq(g, f) | self.cross_eq(f, g)

    def in_list(self, token: str, listed: str) -> Bool:
        """One record's ``token`` is among the other's list-valued ``listed`` (same key)."""
        multi = self.table.multi.get(listed)
        if multi is None:
            return np.zeros(len(self), dtype=bool)
        col = self.table.token(token)
        a, b = col[self.left], col[self.right]
        hit: Bool = (multi[self.right] == a[:, None]).any(axis=1) & (a != 0)
        hit |= (multi[self.left] == b[:, None]).any(axis=1) & (b != 0)
        return hit

    def overlap(self, token: str) -> Bool:
        """List-valued ``token`` shares at least one non-missing value."""
        multi = self.table.multi.get(token)
        if multi is None:
            return np.zeros(len(self), dtype=bool)
        a, b = multi[self.left], multi[self.right]
        hit = np.zeros(len(self), dtype=bool)
        for i in range(a.shape[1]):
            hit |= (a[:, i : i + 1] == b).any(axis=1) & (a[:, i] != 0)
        return hit

    def has(self, field: str) -> Bool:
        """Both records carry a Bloom filter for ``field``."""
        pc = self.table.popcounts.get(field)
        if pc is None:
            return np.zeros(len(self), dtype=bool)
        out: Bool = (pc[self.left] > 0) & (pc[self.right] > 0)
        return out

    def dice(self, field: str) -> npt.NDArray[np.float32]:
        """Dice coefficient of the two filters (0 where either is missing)."""
        cached = self._dice.get(field)
        if cached is not None:
            return cached
        filters, pc = self.table.filters.get(field), self.table.popcounts.get(field)
        if filters is None or pc is None:
            return np.zeros(len(self), dtype=np.float32)
        out = np.zeros(len(self), dtype=np.float32)
        # Equal exact tokens mean equal filters: Dice is 1 without touching the bits.
        # Only the remaining pairs pay for gathering and AND-ing their filters.
        exact = self.eq(f"{field}.exact")
        out[exact] = 1.0
        todo = np.flatnonzero(~exact & (pc[self.left] > 0) & (pc[self.right] > 0))
        a, b = self.left[todo], self.right[todo]
        inter = np.bitwise_count(filters[a] & filters[b]).sum(axis=1)
        out[todo] = 2.0 * inter / (pc[a] + pc[b])
        self._dice[field] = out
        return out


@dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison: its ordered level labels and how to compute them.

    Attributes:
        name: Comparison name (``given_name``, ``address``, …).
        levels: Labels, null level first and else level last.
        tf_token: Token whose value frequency adjusts the exact-match level
            (term-frequency adjustment), or ``None``.
        compute: ``(ctx) -> (null mask, [condition per agreement level])``.
        tf_levels: Further ``(level, token)`` term-frequency adjustments: a
            level whose pairs agree on ``token`` (e.g. the same 1 January).
        against: Levels that never count *for* a match: their weight is at
            most the else level's (e.g. consecutive SSNs, which twins have).
    """

    name: str
    levels: tuple[str, ...]
    tf_token: str | None
    compute: Callable[[PairContext], tuple[Bool, list[Bool]]]
    tf_levels: tuple[tuple[int, str], ...] = ()
    against: tuple[int, ...] = ()

    def __call__(self, ctx: PairContext) -> Levels:
        """Level index of every pair: 0 null, then agreement levels, last else."""
        null, conditions = self.compute(ctx)
        assert len(conditions) == len(self.levels) - 2  # noqa: S101 - definition invariant
        out = np.full(len(ctx), len(self.levels) - 1, dtype=np.int8)
        for index in range(len(conditions), 0, -1):  # strongest level wins
            out[conditions[index - 1]] = index
        out[null] = 0
        return out


# Dice thresholds on the balanced-filter scale (1 - Hamming / m).
HIGH, MID = 0.85, 0.77
DATE_ONE_DIGIT = 0.9  # one of eight digits differs: ~0.93
DATE_TWO_DIGITS = 0.84  # two differ: ~0.87; three or more: below 0.8
DIGITS_ONE_OFF = 0.9


def _given_name(c: PairContext) -> tuple[Bool, list[Bool]]:
    d = c.dice("given_name")
    return ~c.has("given_name"), [
        c.eq("given_name.exact"),
        c.overlap("given_name.canonical"),
        d >= HIGH,
        c.eq("given_name.phonetic"),
        c.names_swapped(),
        c.given_is_middle(),
        d >= MID,
        c.names_crossed(),
    ]


def _family_name(c: PairContext) -> tuple[Bool, list[Bool]]:
    d = c.dice("family_name")
    # A swap is scored once, by the given-name comparison; here it is no evidence.
    return ~c.has("family_name") | c.names_swapped(), [
        c.eq("family_name.exact"),
        d >= HIGH,
        c.overlap("family_name.parts") | c.eq("family_name.phonetic"),
        d >= MID,
    ]


def _middle_name(c: PairContext) -> tuple[Bool, list[Bool]]:
    return ~c.present("middle_name.initial"), [
        c.eq("middle_name.exact") | (c.dice("middle_name") >= HIGH),
        c.eq("middle_name.initial"),
    ]


def _birth_date(c: PairContext) -> tuple[Bool, list[Bool]]:
    """Dates: exact, swapped or one digit, two digits, same year, same day, year ± 1.

    Same year and year ± 1 are the levels of approximate dates: a birth year
    estimated from an age (1 January of the year, one year late before the
    birthday). Same day-and-month is split from same year so that its weight
    can be adjusted by how common the day is (1 January is assigned to many
    refugees).
    """
    d = c.dice("birth_date")
    return ~c.has("birth_date"), [
        c.eq("birth_date.exact"),
        c.eq("birth_date.swapped") | (d >= DATE_ONE_DIGIT),
        d >= DATE_TWO_DIGITS,
        c.eq("birth_date.year"),
        c.eq("birth_date.monthday"),
        c.in_list("birth_date.year", "birth_date.year_near"),
    ]


def _sex(c: PairContext) -> tuple[Bool, list[Bool]]:
    return ~c.present("sex.exact"), [c.eq("sex.exact")]


def _address(c: PairContext) -> tuple[Bool, list[Bool]]:
    street, city, post = c.has("street_address"), c.has("city"), c.has("postcode")
    null = ~(street | city | post)
    street_sim = c.dice("street_address")
    postcode = c.eq("postcode.exact") | (c.dice("postcode") >= DIGITS_ONE_OFF)
    city_sim = c.eq("city.exact") | (c.dice("city") >= HIGH)
    return null, [
        c.eq("street_address.exact"),
        street_sim >= HIGH,
        street_sim >= MID,
        postcode & (city_sim | c.eq("street_address.number")),
        postcode | city_sim,
    ]


def _ssn(c: PairContext) -> tuple[Bool, list[Bool]]:
    """SSNs: exact, consecutive (evidence *against*: twins), one digit off, else."""
    consecutive = c.overlap("ssn.serial_pair") & ~c.eq("ssn.exact")
    return ~c.has("ssn"), [c.eq("ssn.exact"), consecutive, c.dice("ssn") >= DIGITS_ONE_OFF]


def _digits(field: str) -> Callable[[PairContext], tuple[Bool, list[Bool]]]:
    def compute(c: PairContext) -> tuple[Bool, list[Bool]]:
        return ~c.has(field), [c.eq(f"{field}.exact"), c.dice(field) >= DIGITS_ONE_OFF]

    return compute


def _suffix(c: PairContext) -> tuple[Bool, list[Bool]]:
    return ~c.present("name.suffix"), [c.eq("name.suffix")]


COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "given_name",
        (
            "null",
            "exact",
            "nickname",
            "dice_high",
            "phonetic",
            "swapped",
            "middle_as_given",
            "dice_mid",
            "crossed",
            "else",
        ),
        "given_name.exact",
        _given_name,
    ),
    Comparison(
        "family_name",
        ("null", "exact", "dice_high", "part_or_phonetic", "dice_mid", "else"),
        "family_name.exact",
        _family_name,
    ),
    Comparison("middle_name", ("null", "same", "initial", "else"), None, _middle_name),
    Comparison(
        "birth_date",
        (
            "null",
            "exact",
            "swapped_or_one_digit",
            "two_digits",
            "year",
            "monthday",
            "year_near",
            "else",
        ),
        "birth_date.exact",
        _birth_date,
        tf_levels=((5, "birth_date.monthday"),),
    ),
    Comparison("sex", ("null", "exact", "else"), None, _sex),
    Comparison(
        "address",
        (
            "null",
            "street_exact",
            "street_similar",
            "street_partly_similar",
            "postcode_and_city_or_number",
            "postcode_or_city",
            "else",
        ),
        None,
        _address,
    ),
    Comparison("phone", ("null", "exact", "one_digit", "else"), None, _digits("phone")),
    Comparison(
        "ssn", ("null", "exact", "consecutive", "one_digit", "else"), None, _ssn, against=(2,)
    ),
    Comparison("suffix", ("null", "exact", "else"), None, _suffix),
)


def comparison_levels(
    table: EncodedTable,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    comparisons: tuple[Comparison, ...] = COMPARISONS,
) -> npt.NDArray[np.int8]:
    """Level matrix ``(pairs, comparisons)`` for the given pairs."""
    ctx = PairContext(table, left, right)
    out = np.empty((len(left), len(comparisons)), dtype=np.int8)
    for j, comparison in enumerate(comparisons):
        out[:, j] = comparison(ctx)
    return out
