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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from linkage.errors import InputDataError
from linkage.records import RecordKey

__all__ = [
    "HabitScores",
    "PairScores",
    "cluster_pairs_of",
    "format_habit_table",
    "habit_scores",
    "read_habits_csv",
    "read_truth_csv",
    "read_truth_labels",
    "score_pairs",
    "truth_pairs_from_labels",
]

PairKey = tuple[RecordKey, RecordKey]


@dataclass(frozen=True, slots=True)
class PairScores:
    """Pairwise quality figures."""

    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @classmethod
    def from_counts(
        cls, true_positives: int, false_positives: int, false_negatives: int
    ) -> PairScores:
        """The scores of a confusion count (true/false positives, false negatives)."""
        return cls(
            true_positives + false_negatives, true_positives + false_positives, true_positives
        )

    @property
    def false_positives(self) -> int:
        """Predicted pairs that are not true pairs."""
        return self.predicted_pairs - self.true_positives

    @property
    def false_negatives(self) -> int:
        """True pairs that were not predicted."""
        return self.true_pairs - self.true_positives

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
    return truth_pairs_from_labels(read_truth_labels(path).items())


def read_truth_labels(path: Path) -> dict[RecordKey, str]:
    """Read ``agency,record_id,person_id`` ground truth: each record's person."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"agency", "record_id", "person_id"} - set(reader.fieldnames or ())
            if missing:
                raise InputDataError(f"{path} lacks column(s): {', '.join(sorted(missing))}")
            return {(row["agency"], row["record_id"]): row["person_id"] for row in reader}
    except OSError as exc:
        raise InputDataError(f"cannot read truth file {path}: {exc.strerror}") from exc


def read_habits_csv(path: Path) -> dict[RecordKey, tuple[str, ...]]:
    """Read ``agency,record_id,habits`` labels (habits joined by ``;``), as the
    synthetic generator writes them with ``--habits``."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"agency", "record_id", "habits"} - set(reader.fieldnames or ())
            if missing:
                raise InputDataError(f"{path} lacks column(s): {', '.join(sorted(missing))}")
            return {
                (row["agency"], row["record_id"]): tuple(h for h in row["habits"].split(";") if h)
                for row in reader
            }
    except OSError as exc:
        raise InputDataError(f"cannot read habits file {path}: {exc.strerror}") from exc


@dataclass(frozen=True, slots=True)
class HabitScores:
    """Recall and false merges among the records that carry one habit.

    Attributes:
        habit: The habit label (``"all"`` for every record).
        records: Records labelled with it.
        true_pairs: True pairs with at least one such record.
        found_pairs: Those of them that ended in one subject.
        false_pairs: Predicted pairs with at least one such record that join
            two different people.
        false_merged: Such records whose subject holds another person's record.
        all_false_pairs: Predicted false pairs over all records (for the share).
    """

    habit: str
    records: int
    true_pairs: int
    found_pairs: int
    false_pairs: int
    false_merged: int
    all_false_pairs: int

    @property
    def recall(self) -> float:
        """Share of the habit's true pairs that were linked."""
        return self.found_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def false_merge_rate(self) -> float:
        """Share of the habit's records put in a subject with another person.

        This is what a responder meets: resolving such a record shows someone
        else's context too.
        """
        return self.false_merged / self.records if self.records else 0.0

    @property
    def false_pair_share(self) -> float:
        """Share of all false pairs that involve the habit (labels overlap: no sum to 1)."""
        return self.false_pairs / self.all_false_pairs if self.all_false_pairs else 0.0


def habit_scores(
    person_of: Mapping[RecordKey, str],
    subject_of: Mapping[RecordKey, str],
    habits: Mapping[RecordKey, Sequence[str]],
) -> list[HabitScores]:
    """Per-habit recall and false merges of a clustering, ``"all"`` first.

    A *true pair* is two records of one person, a *predicted pair* two records
    of one subject. For habit ``h`` with records ``R_h``: recall is the share
    of true pairs touching ``R_h`` that are predicted; the false-merge rate is
    the share of ``R_h`` whose subject also holds a record of another person;
    the false-pair share is the part of all predicted false pairs that touch
    ``R_h``. Records without truth are ignored.

    Args:
        person_of: True person of each record.
        subject_of: Subject each record was linked into.
        habits: Habit labels of each record (missing: no habit).
    """
    keys = [k for k in subject_of if k in person_of]
    true_groups = _groups((k, person_of[k]) for k in keys)
    subject_groups = _groups((k, subject_of[k]) for k in keys)
    merged = {k for g in subject_groups.values() if len({person_of[m] for m in g}) > 1 for k in g}
    names = sorted({h for k in keys for h in habits.get(k, ())})
    stats = {h: [0, 0, 0, 0, 0] for h in ["all", *names]}
    for key in keys:
        for h in ("all", *habits.get(key, ())):
            stats[h][0] += 1
            stats[h][4] += key in merged
    for members in true_groups.values():
        for a, b in combinations(members, 2):
            found = subject_of[a] == subject_of[b]
            for h in {"all", *habits.get(a, ()), *habits.get(b, ())}:
                stats[h][1] += 1
                stats[h][2] += found
    for members in subject_groups.values():
        for a, b in combinations(members, 2):
            if person_of[a] != person_of[b]:
                for h in {"all", *habits.get(a, ()), *habits.get(b, ())}:
                    stats[h][3] += 1
    total_false = stats["all"][3]
    return [HabitScores(h, r, t, f, fp, fm, total_false) for h, (r, t, f, fp, fm) in stats.items()]


def _groups(labels: Iterable[tuple[RecordKey, str]]) -> dict[str, list[RecordKey]]:
    groups: dict[str, list[RecordKey]] = defaultdict(list)
    for key, label in labels:
        groups[label].append(key)
    return groups


def format_habit_table(scores: Sequence[HabitScores]) -> str:
    """Plain-text table of :func:`habit_scores`, worst false-pair share first after ``all``."""
    rows = [s for s in scores if s.habit == "all"]
    rows += sorted((s for s in scores if s.habit != "all"), key=lambda s: -s.false_pairs)
    header = (
        f"{'habit':18s} {'records':>8s} {'true pairs':>10s} {'recall':>7s} "
        f"{'false pairs':>11s} {'share':>6s} {'false-merge rate':>16s}"
    )
    lines = [header, "-" * len(header)]
    lines += [
        f"{s.habit:18s} {s.records:8d} {s.true_pairs:10d} {s.recall:7.4f} "
        f"{s.false_pairs:11d} {s.false_pair_share:6.3f} {s.false_merge_rate:16.4f}"
        for s in rows
    ]
    return "\n".join(lines)
