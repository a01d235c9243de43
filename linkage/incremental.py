"""Incremental linking: new records against the stored index, without a batch re-run.

A batch of new records (one agency's submission, or one record) is linked in
four vectorised steps and one small clustering:

1. **Blocking** — the index returns every (new, stored) pair sharing a
   blocking key (:meth:`LinkIndex.candidates`); :func:`candidate_pairs` gives
   the pairs within the batch.
2. **Scoring** — the new rows and the stored rows they touch are put side by
   side in one table and scored exactly as :func:`linkage.pipeline.link_table`
   scores (:func:`comparison_levels`, ``weight_from_levels``, ``probability``).
3. **Local clustering** — the stored subjects that some new record matches
   (``p >= match_threshold``) are *touched*. Their members and the new records
   form a small problem for :func:`linkage.clustering.cluster_pairs` — the batch
   clustering itself: each touched subject is held together by must-links, the
   pairs between members of different touched subjects are blocked and scored
   too, so a new record that matches two subjects merges them only when the
   average probability over all scored cross pairs reaches ``merge_threshold``.
   Reviewer cannot-links are never violated and must-links are honoured.
   Stored subjects are never split here (that takes a batch re-link).
4. **Naming** — a cluster keeps the id of its largest stored subject (the
   others are merged into it, with a ``merge`` :class:`SubjectEvent`); a cluster
   of new records only reuses the subject its records had before an update if
   nothing else holds it, or else gets :func:`new_subject_id`.

:func:`link_batch` leaves the index untouched and returns a
:class:`BatchOutcome`; the caller writes it to its database and, once that
commits, calls ``index.apply(outcome)``. A failed transaction thus leaves the
in-memory index as it was. :func:`resolve` (from :mod:`linkage.resolve`,
re-exported here) ranks the subjects a query record may belong to.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from linkage.blocking import candidate_pairs
from linkage.clustering import cluster_pairs
from linkage.index import LinkIndex
from linkage.model import FellegiSunterModel
from linkage.pipeline import LinkSettings
from linkage.resolve import (
    Candidate,
    ScoredPairs,
    Zone,
    check_model,
    pair_probability,
    resolve,
    score_against_index,
)
from linkage.subjects import RecordKey, SubjectEvent, new_subject_id
from linkage.table import EncodedTable

__all__ = ["BatchOutcome", "Candidate", "RecordLink", "Zone", "link_batch", "resolve"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
KeyPair = tuple[RecordKey, RecordKey]


@dataclass(frozen=True, slots=True)
class RecordLink:
    """Where one new record went: its subject and its strongest link inside it."""

    key: RecordKey
    subject_id: str
    match_probability: float


@dataclass
class BatchOutcome:
    """What linking one batch decided; apply it with :meth:`LinkIndex.apply`.

    Attributes:
        generation: Index generation it was computed against.
        table: The new records.
        subject_ids: Subject of each new record (row order of ``table``).
        match_probability: Each new record's strongest scored link to another
            member of its subject (0 when it is alone).
        events: Merges of stored subjects.
        subject_changes: Stored records moved to the surviving subject of a merge.
        review_pairs: ``(new key, other key, p)`` in the possible-match zone that
            ended in different subjects — for the review queue.
        skipped_constraints: Cannot-links inside one stored subject (only a batch
            re-link can split a subject).
    """

    generation: int
    table: EncodedTable
    subject_ids: list[str]
    match_probability: F64
    events: list[SubjectEvent] = field(default_factory=list)
    subject_changes: dict[RecordKey, str] = field(default_factory=dict)
    review_pairs: list[tuple[RecordKey, RecordKey, float]] = field(default_factory=list)
    skipped_constraints: int = 0

    def records(self) -> list[RecordLink]:
        """One :class:`RecordLink` per new record."""
        return [
            RecordLink(key, subject_id, float(p))
            for key, subject_id, p in zip(
                self.table.keys(), self.subject_ids, self.match_probability, strict=True
            )
        ]


class _Problem:
    """The local clustering problem: new rows ``0..b-1``, then touched members."""

    def __init__(self, index: LinkIndex, table: EncodedTable, touched: list[str]) -> None:
        self.index = index
        self.b = len(table)
        self.replaced = {r for r in map(index.row_of, table.keys()) if r is not None}
        self.subjects = touched
        self.members = [
            row for s in touched for row in index.member_rows(s) if row not in self.replaced
        ]
        self.local_of = {row: self.b + i for i, row in enumerate(self.members)}
        self.new_of = {key: i for i, key in enumerate(table.keys())}

    @property
    def size(self) -> int:
        return self.b + len(self.members)

    def local(self, key: RecordKey) -> int | None:
        """Local id of a new or touched stored record."""
        if key in self.new_of:
            return self.new_of[key]
        row = self.index.row_of(key)
        return None if row is None else self.local_of.get(row)

    def subject_chains(self) -> list[tuple[int, int]]:
        """Must-links that hold each touched subject together."""
        first: dict[str, int] = {}
        chains = []
        for i, row in enumerate(self.members, start=self.b):
            head = first.setdefault(self.index.subject_of_row(row), i)
            if head != i:
                chains.append((head, i))
        return chains


def _touched(
    index: LinkIndex,
    scored: ScoredPairs,
    settings: LinkSettings,
    constraints: Sequence[KeyPair],
    new_keys: set[RecordKey],
) -> list[str]:
    """Stored subjects a new record matches or is constrained with."""
    b = len(scored.table) - len(scored.stored)
    strong = (scored.probability >= settings.match_threshold) & (scored.right >= b)
    rows = set(scored.stored[scored.right[strong] - b].tolist())
    for a, c in constraints:
        if a in new_keys or c in new_keys:
            rows.update(r for r in (index.row_of(a), index.row_of(c)) if r is not None)
    return sorted({index.subject_of_row(row) for row in rows})


def _cross_subject_pairs(
    problem: _Problem, model: FellegiSunterModel, settings: LinkSettings
) -> tuple[I64, I64, F64]:
    """Blocked, scored pairs between members of different touched subjects."""
    empty = np.empty(0, dtype=np.int64)
    if len(problem.subjects) < 2:
        return empty, empty, empty.astype(np.float64)
    members = problem.index.take(np.asarray(problem.members, dtype=np.int64))
    left, right, _ = candidate_pairs(members, settings.rules, max_block=settings.max_block)
    subject = np.array([problem.index.subject_of_row(r) for r in problem.members], dtype=object)
    keep = subject[left] != subject[right]
    left, right = left[keep], right[keep]
    p = pair_probability(model, members, left, right)
    return left + problem.b, right + problem.b, p


def _local_pairs(problem: _Problem, scored: ScoredPairs) -> tuple[I64, I64, F64]:
    """Scored pairs in local ids (pairs with untouched stored rows dropped)."""
    b = problem.b
    lookup = np.array([problem.local_of.get(row, -1) for row in scored.stored.tolist()])
    right = scored.right.copy()
    stored = right >= b
    right[stored] = lookup[right[stored] - b] if len(lookup) else right[stored]
    keep = right >= 0
    return scored.left[keep], right[keep], scored.probability[keep]


def _map_constraints(
    problem: _Problem, pairs: Sequence[KeyPair], *, cannot: bool
) -> tuple[list[tuple[int, int]], int]:
    """Constraints between local records; cannot-links inside one stored subject skipped."""
    out, skipped = [], 0
    for a, c in pairs:
        la, lc = problem.local(a), problem.local(c)
        if la is None or lc is None:
            continue
        same = (
            la >= problem.b
            and lc >= problem.b
            and problem.index.subject_of(a) == (problem.index.subject_of(c))
        )
        if cannot and same:
            skipped += 1
            continue
        out.append((la, lc))
    return out, skipped


def _cluster(
    problem: _Problem,
    scored: ScoredPairs,
    model: FellegiSunterModel,
    settings: LinkSettings,
    constraints: tuple[Sequence[KeyPair], Sequence[KeyPair]],
) -> tuple[I64, int]:
    """Cluster labels of the local records, and the number of skipped constraints."""
    parts = [_local_pairs(problem, scored), _cross_subject_pairs(problem, model, settings)]
    left = np.concatenate([p[0] for p in parts])
    right = np.concatenate([p[1] for p in parts])
    probability = np.concatenate([p[2] for p in parts])
    must, _ = _map_constraints(problem, constraints[0], cannot=False)
    cannot, skipped = _map_constraints(problem, constraints[1], cannot=True)
    labels = cluster_pairs(
        problem.size, np.minimum(left, right), np.maximum(left, right), probability,
        match_threshold=settings.match_threshold, merge_threshold=settings.merge_threshold,
        must_link=problem.subject_chains() + must, cannot_link=cannot,
    )  # fmt: skip
    return labels, skipped


@dataclass
class _Naming:
    """Subject ids chosen for the new records, and the merges that made them."""

    subject_ids: list[str]
    merged_into: dict[str, str]
    events: list[SubjectEvent]


def _name_clusters(
    problem: _Problem, labels: I64, table: EncodedTable, taken: Container[str]
) -> _Naming:
    """Keep the largest stored subject of each cluster; name clusters of new records."""
    index, b = problem.index, problem.b
    stored_of: dict[int, set[str]] = {}
    for i, row in enumerate(problem.members, start=b):
        stored_of.setdefault(int(labels[i]), set()).add(index.subject_of_row(row))
    new_of: dict[int, list[RecordKey]] = {}
    for key, label in zip(table.keys(), labels[:b].tolist(), strict=True):
        new_of.setdefault(label, []).append(key)
    names: dict[int, str] = {}
    used: set[str] = set()
    naming = _Naming([], {}, [])
    for label in labels[:b].tolist():
        if label not in names:
            subjects = stored_of.get(label, set())
            if subjects:
                names[label] = _keep_largest(index, subjects, naming)
            else:
                names[label] = _fresh_id(index, new_of[label], used, taken)
            used.add(names[label])
        naming.subject_ids.append(names[label])
    return naming


def _keep_largest(index: LinkIndex, subjects: set[str], naming: _Naming) -> str:
    order = sorted(subjects, key=lambda s: (-len(index.member_rows(s)), s))
    keep = order[0]
    if len(order) > 1:
        naming.events.append(SubjectEvent("merge", (keep,), tuple(sorted(order))))
        naming.merged_into.update(dict.fromkeys(order[1:], keep))
    return keep


def _fresh_id(
    index: LinkIndex, members: list[RecordKey], used: set[str], taken: Container[str]
) -> str:
    """The members' previous subject if only they held it, else a new stable id."""
    new_keys = set(members)
    for key in sorted(members):
        previous = index.subject_of(key)
        free = previous is not None and previous not in used and previous not in taken
        if free and set(index.members(previous)) <= new_keys:  # type: ignore[arg-type]
            return previous  # type: ignore[return-value]
    rejected = set(used)
    while True:
        candidate = new_subject_id(members, rejected)
        if candidate not in taken and not index.member_rows(candidate):
            return candidate
        rejected.add(candidate)


def _links(
    problem: _Problem, scored: ScoredPairs, naming: _Naming, settings: LinkSettings
) -> tuple[F64, list[tuple[RecordKey, RecordKey, float]]]:
    """Each new record's best link inside its subject, and pairs to review."""
    index, b = problem.index, problem.b
    stored = [index.subject_of_row(r) for r in scored.stored.tolist()]
    final = naming.subject_ids + [naming.merged_into.get(s, s) for s in stored]
    codes = {s: i for i, s in enumerate(dict.fromkeys(final))}
    subject = np.array([codes[s] for s in final], dtype=np.int64)
    left, right, p = scored.left, scored.right, scored.probability
    same = subject[left] == subject[right]
    best = np.zeros(b)
    np.maximum.at(best, left[same], p[same])
    inner = same & (right < b)
    np.maximum.at(best, right[inner], p[inner])
    zone = (p >= settings.possible_threshold) & (p < settings.match_threshold) & ~same
    keys = scored.table.keys()
    review = [
        (keys[a], keys[c], prob)
        for a, c, prob in zip(
            left[zone].tolist(), right[zone].tolist(), p[zone].tolist(), strict=True
        )
    ]
    return best, review


def link_batch(
    index: LinkIndex,
    table: EncodedTable,
    model: FellegiSunterModel,
    settings: LinkSettings | None = None,
    *,
    must_link: Sequence[KeyPair] = (),
    cannot_link: Sequence[KeyPair] = (),
    taken_ids: Container[str] = frozenset(),
) -> BatchOutcome:
    """Link new records against the index and each other; the index is not changed.

    Args:
        index: The stored records (see :class:`LinkIndex`).
        table: The new records; a key already stored is an update of that record.
        model: The fitted model (the batch run's, for equal scores).
        settings: Thresholds and blocking (those of the batch run).
        must_link, cannot_link: Reviewer constraints by ``(agency, record_id)``.
        taken_ids: Subject ids that must not be handed out (e.g. retired ones).

    Returns:
        The outcome; apply it with ``index.apply(outcome)`` after it is stored.

    Raises:
        ModelError: if the model was trained on other encodings.
        ConstraintError: if the constraints contradict each other.
    """
    settings = settings or LinkSettings()
    check_model(index, table, model)
    generation = index.generation
    new, stored = index.candidates(table)
    inner_l, inner_r, _ = candidate_pairs(table, settings.rules, max_block=settings.max_block)
    scored = score_against_index(index, table, model, (inner_l, inner_r, new, stored))
    constraints = (*must_link, *cannot_link)
    touched = _touched(index, scored, settings, constraints, set(table.keys()))
    problem = _Problem(index, table, touched)
    labels, skipped = _cluster(problem, scored, model, settings, (must_link, cannot_link))
    naming = _name_clusters(problem, labels, table, taken_ids)
    best, review = _links(problem, scored, naming, settings)
    changes = {
        key: naming.merged_into[old] for old in naming.merged_into for key in index.members(old)
    }
    return BatchOutcome(
        generation, table, naming.subject_ids, best, naming.events, changes, review, skipped
    )
