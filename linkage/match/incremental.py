"""Incremental linking: new records against the stored index, without a batch re-run.

A batch of new records (one agency's submission, or one record) is linked in
four vectorised steps and one small clustering:

1. **Blocking** — the index returns every (new, stored) pair sharing a
   blocking key (:meth:`LinkIndex.candidates`); :func:`candidate_pairs` gives
   the pairs within the batch.
2. **Scoring** — the new rows and the stored rows they touch are put side by
   side in one table (:mod:`linkage.match.stacked`: filters read in place) and scored
   exactly as :func:`linkage.match.pipeline.link_table` scores
   (:func:`comparison_levels`, ``weight_from_levels``, ``probability``).
3. **Local clustering** — the stored subjects that some new record matches
   (``p >= match_threshold``) are *touched*. Their members and the new records
   form a small problem for :func:`linkage.match.clustering.cluster_pairs` — the batch
   clustering itself: each touched subject is held together by must-links, the
   pairs between members of different touched subjects that new records (or
   constraints) connect are blocked and scored too (see
   :mod:`linkage.match.local_problem`), so a new record that matches two subjects
   merges them only when the average probability over all cross pairs (those
   not blocked are scored on demand, as in the batch) reaches
   ``merge_threshold`` and no cross pair is a hard contradiction
   (:mod:`linkage.match.contradictions`).
   Reviewer cannot-links are never violated and must-links are honoured.
   Stored subjects are never split here (that takes a batch re-link).
4. **Naming** — a cluster keeps the id of its largest stored subject (the
   others are merged into it, with a ``merge`` :class:`SubjectEvent`); a cluster
   of new records only reuses the subject its records had before an update if
   nothing else holds it, or else gets :func:`new_subject_id` (keyed with the
   caller's :class:`SubjectIdKey`).

:func:`link_batch` leaves the index untouched and returns a
:class:`BatchOutcome`; the caller writes it to its database and, once that
commits, calls ``index.apply(outcome)``. A failed transaction thus leaves the
in-memory index as it was. :func:`resolve` (from :mod:`linkage.match.resolve`,
re-exported here) ranks the subjects a query record may belong to.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from linkage.match.blocking import candidate_pairs
from linkage.match.clustering import cluster_pairs
from linkage.match.contradictions import contradictions, table_scorer
from linkage.match.index import LinkIndex
from linkage.match.local_problem import (
    LocalProblem,
    cross_subject_pairs,
    local_pairs,
    touched_subjects,
)
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import LinkSettings
from linkage.match.resolve import (
    Candidate,
    ScoredPairs,
    Zone,
    check_model,
    resolve,
    score_against_index,
)
from linkage.match.stacked import stacked
from linkage.match.subjects import SubjectEvent, SubjectIdKey, new_subject_id
from linkage.records import RecordKey
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


def _map_constraints(
    problem: LocalProblem, pairs: Sequence[KeyPair], *, cannot: bool
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
    problem: LocalProblem,
    scored: ScoredPairs,
    model: FellegiSunterModel,
    settings: LinkSettings,
    constraints: tuple[Sequence[KeyPair], Sequence[KeyPair]],
    table: EncodedTable,
) -> tuple[I64, int]:
    """Cluster labels of the local records, and the number of skipped constraints.

    As in the batch run, every cross pair counts and hard contradictions block
    merges: the local table (new rows, then the touched members, read in place)
    scores the pairs that blocking did not compare.
    """
    parts = [local_pairs(problem, scored), cross_subject_pairs(problem, model, settings)]
    left = np.concatenate([p[0] for p in parts])
    right = np.concatenate([p[1] for p in parts])
    probability = np.concatenate([p[2] for p in parts])
    local = stacked(table, problem.index.table, problem.members)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    must, _ = _map_constraints(problem, constraints[0], cannot=False)
    cannot, skipped = _map_constraints(problem, constraints[1], cannot=True)
    labels = cluster_pairs(
        problem.size, lo, hi, probability,
        match_threshold=settings.match_threshold, merge_threshold=settings.merge_threshold,
        must_link=problem.subject_chains() + must, cannot_link=cannot,
        scorer=table_scorer(local, model), contradicts=contradictions(local, lo, hi),
    )  # fmt: skip
    return labels, skipped


@dataclass
class _Naming:
    """Subject ids chosen for the new records, and the merges that made them."""

    subject_ids: list[str]
    merged_into: dict[str, str]
    events: list[SubjectEvent]


def _name_clusters(
    problem: LocalProblem,
    labels: I64,
    keys: list[RecordKey],
    taken: Container[str],
    id_key: SubjectIdKey,
) -> _Naming:
    """Keep the largest stored subject of each cluster; name clusters of new records."""
    index, b = problem.index, problem.b
    stored_of: dict[int, set[str]] = {}
    for label, code in zip(labels[b:].tolist(), problem.codes.tolist(), strict=True):
        stored_of.setdefault(label, set()).add(index.subject_name(code))
    new_of: dict[int, list[RecordKey]] = {}
    for key, label in zip(keys, labels[:b].tolist(), strict=True):
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
                names[label] = _fresh_id(index, new_of[label], used, taken, id_key)
            used.add(names[label])
        naming.subject_ids.append(names[label])
    return naming


def _keep_largest(index: LinkIndex, subjects: set[str], naming: _Naming) -> str:
    order = sorted(subjects, key=lambda s: (-index.member_count(s), s))
    keep = order[0]
    if len(order) > 1:
        naming.events.append(SubjectEvent("merge", (keep,), tuple(sorted(order))))
        naming.merged_into.update(dict.fromkeys(order[1:], keep))
    return keep


def _fresh_id(
    index: LinkIndex,
    members: list[RecordKey],
    used: set[str],
    taken: Container[str],
    id_key: SubjectIdKey,
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
        candidate = new_subject_id(members, rejected, id_key=id_key)
        if candidate not in taken and not index.member_count(candidate):
            return candidate
        rejected.add(candidate)


def _final_codes(index: LinkIndex, problem: LocalProblem, naming: _Naming, right: I64) -> I64:
    """Subject code, after this batch, of each new row (``0..b-1``) and of ``right``.

    A subject unknown to the index gets a negative code of its own; a merged
    subject gets its survivor's code.
    """
    b = problem.b
    fresh: dict[str, int] = {}
    known = [index.subject_code(s) for s in naming.subject_ids]
    new_codes = np.array(
        [
            c if c >= 0 else fresh.setdefault(s, -2 - len(fresh))
            for s, c in zip(naming.subject_ids, known, strict=True)
        ],
        dtype=np.int64,
    )
    to_stored = right >= b
    stored = index.subject_codes(right[to_stored] - b).astype(np.int64)
    if naming.merged_into:
        old = np.array([index.subject_code(s) for s in naming.merged_into], dtype=np.int64)
        keep = np.array([index.subject_code(s) for s in naming.merged_into.values()])
        order = np.argsort(old)
        at = np.minimum(np.searchsorted(old[order], stored), len(old) - 1)
        hit = old[order][at] == stored
        stored[hit] = keep[order][at[hit]]
    out = new_codes[np.minimum(right, b - 1)]
    out[to_stored] = stored
    return np.concatenate([new_codes, out])


def _links(
    problem: LocalProblem,
    scored: ScoredPairs,
    naming: _Naming,
    settings: LinkSettings,
    keys: list[RecordKey],
) -> tuple[F64, list[tuple[RecordKey, RecordKey, float]]]:
    """Each new record's best link inside its subject, and pairs to review."""
    index, b = problem.index, problem.b
    left, right, p = scored.left, scored.right, scored.probability
    codes = _final_codes(index, problem, naming, right)
    same = codes[left] == codes[b:]
    best = np.zeros(b)
    np.maximum.at(best, left[same], p[same])
    inner = same & (right < b)
    np.maximum.at(best, right[inner], p[inner])
    zone = (p >= settings.possible_threshold) & (p < settings.match_threshold) & ~same
    review = [
        (keys[a], keys[c] if c < b else index.key_of(c - b), prob)
        for a, c, prob in zip(
            left[zone].tolist(), right[zone].tolist(), p[zone].tolist(), strict=True
        )
    ]
    return best, review


def _inner_pairs(table: EncodedTable, settings: LinkSettings) -> tuple[I64, I64]:
    """Candidate pairs within the batch (none for a single record)."""
    if len(table) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    left, right, _ = candidate_pairs(table, settings.rules, max_block=settings.max_block)
    return left, right


def link_batch(
    index: LinkIndex,
    table: EncodedTable,
    model: FellegiSunterModel,
    settings: LinkSettings | None = None,
    *,
    must_link: Sequence[KeyPair] = (),
    cannot_link: Sequence[KeyPair] = (),
    taken_ids: Container[str] = frozenset(),
    id_key: SubjectIdKey | None = None,
) -> BatchOutcome:
    """Link new records against the index and each other; the index is not changed.

    Args:
        index: The stored records (see :class:`LinkIndex`).
        table: The new records; a key already stored is an update of that record.
        model: The fitted model (the batch run's, for equal scores).
        settings: Thresholds and blocking (those of the batch run).
        must_link, cannot_link: Reviewer constraints by ``(agency, record_id)``.
        taken_ids: Subject ids that must not be handed out (e.g. retired ones).
        id_key: Names new subjects (the hub's key; see :func:`link_table`).
            ``None``: a one-off random key.

    Returns:
        The outcome; apply it with ``index.apply(outcome)`` after it is stored.

    Raises:
        ModelError: if the model was trained on other encodings.
        ConstraintError: if the constraints contradict each other.
    """
    settings = settings or LinkSettings()
    check_model(index, table, model)
    generation = index.generation
    keys = table.keys()
    new, stored = index.candidates(table)
    inner_l, inner_r = _inner_pairs(table, settings)
    scored = score_against_index(index, table, model, (inner_l, inner_r, new, stored))
    new_of = {key: i for i, key in enumerate(keys)}
    constraints = (*must_link, *cannot_link)
    touched, contested = touched_subjects(index, scored, settings, constraints, new_of)
    problem = LocalProblem(index, keys, touched, contested)
    labels, skipped = _cluster(problem, scored, model, settings, (must_link, cannot_link), table)
    naming = _name_clusters(problem, labels, keys, taken_ids, id_key or SubjectIdKey.generate())
    best, review = _links(problem, scored, naming, settings, keys)
    changes = {
        key: naming.merged_into[old] for old in naming.merged_into for key in index.members(old)
    }
    return BatchOutcome(
        generation, table, naming.subject_ids, best, naming.events, changes, review, skipped
    )
