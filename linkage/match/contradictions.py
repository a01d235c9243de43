"""Hard contradictions: facts that two records cannot share if they are one person.

The Fellegi–Sunter weight of a pair adds evidence up, so enough agreement on
name, address and phone can outweigh any disagreement. For look-alike relatives
that is exactly wrong: twins share everything but the given name and the SSN,
a junior and his father everything but the birth date and the suffix. The
clustering therefore refuses to put two records in one subject when they

* carry SSNs that are both present and differ in more than a typo (Dice of the
  positional filters below :data:`SSN_CONTRADICTION`: three or more digits)
  while their given names and birth dates differ too, or SSNs that are
  *consecutive* on records with one birth date (twins are issued consecutive
  numbers; see ``ssn.serial_pair``);
* carry different generational suffixes (Jr against Sr, II against III);
* were born a generation apart: the birth years share neither of two 20-year
  grids offset by 10 years (``birth_date.generation``), which holds whenever
  they are 20 or more years apart and never when they are under 10 apart —
  unless the dates look like one date with a keying slip (same day and month,
  or at most two digits apart, as 1985 and 1958 are) or both records carry an
  SSN (which then decides, through its weight).

A contradiction between *any* two members blocks a merge (see
:mod:`linkage.match.clustering`); reviewer must-links still win.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from linkage.match.clustering import (
    CLUSTER_CONTRADICTION,
    NO_CONTRADICTION,
    PAIR_CONTRADICTION,
    PairScorer,
)
from linkage.match.comparisons import DATE_TWO_DIGITS, MID, PairContext
from linkage.match.model import FellegiSunterModel
from linkage.table import EncodedTable

__all__ = ["SSN_CONTRADICTION", "contradictions", "table_scorer"]

Bool = npt.NDArray[np.bool_]
I8 = npt.NDArray[np.int8]
I64 = npt.NDArray[np.int64]

#: Dice of SSN filters below which the numbers differ in three or more digits
#: (one digit off scores ~0.94, two ~0.88, three ~0.82, four ~0.77).
SSN_CONTRADICTION = 0.8


def contradictions(table: EncodedTable, left: I64, right: I64) -> I8:
    """Contradiction severity of each pair ``(left[i], right[i])``.

    :data:`PAIR_CONTRADICTION` for SSNs and suffixes, :data:`CLUSTER_CONTRADICTION`
    for birth years a generation apart (see :mod:`linkage.match.clustering`).
    """
    ctx = PairContext(table, left, right)
    out = np.where(generation_apart(ctx), CLUSTER_CONTRADICTION, NO_CONTRADICTION)
    out[contradictions_of(ctx)] = PAIR_CONTRADICTION
    return out.astype(np.int8)


def contradictions_of(ctx: PairContext) -> Bool:
    """Pair-level contradictions (SSN, suffix) on an existing pair context."""
    ssn = ctx.has("ssn") & (ctx.dice("ssn") < SSN_CONTRADICTION) & ~_same_given_name(ctx)
    ssn &= _other_birth_date(ctx)
    ssn |= consecutive_ssn(ctx)
    suffix = ctx.present("name.suffix") & ~ctx.eq("name.suffix")
    return ssn | suffix


def _same_given_name(ctx: PairContext) -> Bool:
    """Given names that may be one name (exact, formal, phonetic, Dice >= MID, crossed).

    Records of one person do carry wholly different SSNs at times (a relative's
    number, a keying slip of several digits: 6 % of FEBRL3's true pairs), but
    then the rest of the record agrees; two relatives differ in the given name.
    """
    out: Bool = ~ctx.has("given_name") | ctx.eq("given_name.exact")
    out |= ctx.overlap("given_name.canonical") | ctx.eq("given_name.phonetic")
    return out | (ctx.dice("given_name") >= MID) | ctx.names_crossed()


def _other_birth_date(ctx: PairContext) -> Bool:
    """Birth dates both present and further apart than two digits or a day/month swap."""
    close = ctx.eq("birth_date.swapped") | (ctx.dice("birth_date") >= DATE_TWO_DIGITS)
    out: Bool = ctx.has("birth_date") & ~close
    return out


def consecutive_ssn(ctx: PairContext) -> Bool:
    """Consecutive SSNs (a shared serial-pair token), one birth date, two names: twins."""
    if "ssn.serial_pair" not in ctx.table.multi:
        return np.zeros(len(ctx), dtype=bool)
    out: Bool = ctx.overlap("ssn.serial_pair") & ~ctx.eq("ssn.exact")
    # Twins: one birth date, consecutive numbers, two given names (with one
    # given name it is more likely a slip in the last digit).
    return out & ctx.eq("birth_date.exact") & ~_same_given_name(ctx)


def generation_apart(ctx: PairContext) -> Bool:
    """Birth years that share no cell of either 20-year grid (20+ years apart)."""
    if "birth_date.generation" not in ctx.table.multi:
        return np.zeros(len(ctx), dtype=bool)
    both = ctx.present("birth_date.year")
    apart = both & ~ctx.overlap("birth_date.generation")
    # A keying slip in the year keeps day and month and most digits (1985 -> 1958):
    # only dates that also differ there are two people's.
    # Where both records carry an SSN, the SSN speaks (through its weight), not
    # the date: dates are mis-keyed far more often than numbers (FEBRL3
    # duplicates get whole new dates, and often a mangled SSN with them).
    out: Bool = apart & _other_birth_date(ctx) & ~ctx.eq("birth_date.monthday")
    return out & ~ctx.has("ssn")


def table_scorer(table: EncodedTable, model: FellegiSunterModel) -> PairScorer:
    """A :class:`~linkage.match.clustering.PairScorer` over the rows of ``table``.

    Pairs are scored exactly as candidate pairs are (same comparisons, weights
    and term frequencies), so a cross pair that blocking never compared weighs
    in a merge decision on the same scale as one it did.
    """

    def score(left: I64, right: I64) -> tuple[npt.NDArray[np.float64], I8]:
        weight, _ = model.match_weight(table, left, right)
        return model.probability(weight), contradictions(table, left, right)

    return score
