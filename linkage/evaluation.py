"""Scoring a linkage against the truth: pair completeness, precision, recall, F1.

Quality is measured on record *pairs*: two records are predicted to match when
they end in the same subject, and truly match when they belong to the same person.
Precision is the share of predicted pairs that are true, recall the share of true
pairs that were predicted, F1 their harmonic mean. *Pair completeness* measures
blocking alone: the share of true pairs that were ever compared.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from linkage.errors import InputDataError

__all__ = [
    "PairScores",
    "cluster_pairs_of",
    "read_truth_csv",
    "score_pairs",
    "truth_pairs_from_labels",
]

RecordKey = tuple[str, str]
PairKey = tuple[RecordKey, RecordKey]


@dataclass(frozen=True, slots=True)
class PairScores:
    """Pairwise quality figures."""

    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        """Share of predicted pairs that truly match."""
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs that were predicted."""
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pair(a: RecordKey, b: RecordKey) -> PairKey:
    return (a, b) if a <= b else (b, a)


def truth_pairs_from_labels(labels: Iterable[tuple[RecordKey, str]]) -> set[PairKey]:
    """All pairs of records sharing a label (person id or subject id)."""
    groups: dict[str, list[RecordKey]] = defaultdict(list)
    for key, label in labels:
        groups[label].append(key)
    return {_pair(a, b) for members in groups.values() for a, b in combinations(members, 2)}


def cluster_pairs_of(keys: Sequence[RecordKey], subject_ids: Sequence[str]) -> set[PairKey]:
    """Predicted pairs implied by a clustering."""
    return truth_pairs_from_labels(zip(keys, subject_ids, strict=True))


def score_pairs(predicted: set[PairKey], truth: set[PairKey] | frozenset[PairKey]) -> PairScores:
    """Compare predicted pairs with true pairs."""
    return PairScores(len(truth), len(predicted), len(predicted & truth))


def read_truth_csv(path: Path) -> set[PairKey]:
    """Read ``agency,record_id,person_id`` ground truth into true pairs."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"agency", "record_id", "person_id"} - set(reader.fieldnames or ())
            if missing:
                raise InputDataError(f"{path} lacks column(s): {', '.join(sorted(missing))}")
            return truth_pairs_from_labels(
                ((row["agency"], row["record_id"]), row["person_id"]) for row in reader
            )
    except OSError as exc:
        raise InputDataError(f"cannot read truth file {path}: {exc.strerror}") from exc
