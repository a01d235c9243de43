"""Resolving a person against the stored index, and the scoring both it and linking use.

A responder's gateway encodes the identifiers of the person in front of them;
:func:`resolve` blocks them against the :class:`LinkIndex`, scores the
candidate pairs exactly as the batch pipeline does and ranks the subjects by
their best pair probability, with the decision zone of each. Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from linkage.match.comparisons import comparison_levels
from linkage.match.index import LinkIndex
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import LinkSettings
from linkage.match.stacked import stacked
from linkage.table import EncodedTable

__all__ = ["Candidate", "Zone", "resolve", "zone_of"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Zone = Literal["match", "possible", "non_match"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A subject the resolved person may be, with its best pair probability."""

    subject_id: str
    match_probability: float
    zone: Zone


@dataclass
class ScoredPairs:
    """Scored pairs of new rows ``0..b-1`` with new rows or stored rows.

    ``left`` is always a new row; ``right`` is a new row when ``< b``, else the
    stored index row ``right - b``.
    """

    b: int
    left: I64
    right: I64
    probability: F64


def score_against_index(
    index: LinkIndex,
    table: EncodedTable,
    model: FellegiSunterModel,
    pairs: tuple[I64, I64, I64, I64],
) -> ScoredPairs:
    """Score (new, new) and (new, stored) pairs in one vectorised pass.

    Only the stored rows' narrow columns are copied (see :mod:`linkage.match.stacked`).
    """
    inner_l, inner_r, new, stored = pairs
    uniq, local = _unique_inverse(stored)
    scoring = stacked(table, index.table, uniq)
    left = np.concatenate([inner_l, new])
    right = np.concatenate([inner_r, len(table) + local])
    probability = pair_probability(model, scoring, left, right)
    right[len(inner_r) :] = stored + len(table)
    return ScoredPairs(len(table), left, right, probability)


def _unique_inverse(values: I64) -> tuple[I64, I64]:
    """``np.unique(values, return_inverse=True)`` by one sort (NumPy 2 hashes: slower)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    start = np.r_[True, ordered[1:] != ordered[:-1]] if len(values) else ordered.astype(bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(start) - 1
    return ordered[start], inverse


def pair_probability(model: FellegiSunterModel, table: EncodedTable, left: I64, right: I64) -> F64:
    """``match_probability`` of pairs, exactly as the batch pipeline computes it."""
    levels = comparison_levels(table, left, right, model.comparisons)
    return model.probability(model.weight_from_levels(levels, table, left))


def check_model(index: LinkIndex, table: EncodedTable, model: FellegiSunterModel) -> None:
    model.check_compatible(table)
    if (index.schema_version, index.key_id) != (model.schema_version, model.key_id):
        model.check_compatible(index.table)


def zone_of(probability: float, settings: LinkSettings) -> Zone:
    """Decision zone of a match probability."""
    if probability >= settings.match_threshold:
        return "match"
    return "possible" if probability >= settings.possible_threshold else "non_match"


def resolve(
    index: LinkIndex,
    table: EncodedTable,
    model: FellegiSunterModel,
    settings: LinkSettings | None = None,
    *,
    limit: int = 10,
    min_probability: float | None = None,
) -> list[Candidate]:
    """Rank the subjects that the query record(s) may belong to, best first.

    Every row of ``table`` describes the same person (e.g. what a responder
    has); a subject's score is its best pair probability with any of them.
    Only subjects at or above ``min_probability`` (default: the possible-match
    threshold) are returned, so a responder never browses people who merely
    share a surname; pass ``0.0`` to see non-matches too.

    Args:
        index: The stored records.
        table: One or more encodings of the person to resolve (never stored).
        model: The fitted model.
        settings: Zone thresholds.
        limit: At most this many subjects.
        min_probability: Lowest probability returned.
    """
    settings = settings or LinkSettings()
    check_model(index, table, model)
    floor = settings.possible_threshold if min_probability is None else min_probability
    new, stored = index.candidates(table)
    if not len(new):
        return []
    scored = score_against_index(index, table, model, (new[:0], new[:0], new, stored))
    probability = scored.probability
    keep = probability >= floor
    codes, probability = index.subject_codes(stored[keep]), probability[keep]
    order = np.argsort(-probability, kind="stable")
    _, first = np.unique(codes[order], return_index=True)  # each subject's best pair
    best = order[first]
    ranked = sorted(
        zip(
            [index.subject_name(c) for c in codes[best].tolist()],
            probability[best].tolist(),
            strict=True,
        ),
        key=lambda item: (-item[1], item[0]),
    )[:limit]
    return [Candidate(s, p, zone_of(p, settings)) for s, p in ranked]
