"""The local clustering problem of one incremental batch.

:func:`linkage.match.incremental.link_batch` clusters the new records together with
the members of the stored subjects they touch. This module decides which
subjects those are (:func:`touched_subjects`), numbers the records locally
(:class:`LocalProblem`: new rows ``0..b-1``, then the touched members), maps
scored pairs into those numbers (:func:`local_pairs`) and scores the pairs
between members of different subjects that the clustering may weigh
(:func:`cross_subject_pairs`) — only for *contested* subjects, which new
records or constraints connect with another subject: a subject no new record
connects with another can never be merged with it by this batch, so blocking
and scoring its members against the others would be wasted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from linkage.match.blocking import candidate_pairs
from linkage.match.index import LinkIndex
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import LinkSettings
from linkage.match.resolve import ScoredPairs, pair_probability
from linkage.records import RecordKey

__all__ = ["LocalProblem", "cross_subject_pairs", "local_pairs", "touched_subjects"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
KeyPair = tuple[RecordKey, RecordKey]


class LocalProblem:
    """The local clustering problem: new rows ``0..b-1``, then touched members."""

    def __init__(
        self, index: LinkIndex, keys: list[RecordKey], touched: list[int], contested: set[int]
    ) -> None:
        self.index = index
        self.b = len(keys)
        replaced = [r for r in map(index.row_of, keys) if r is not None]
        self.subjects = touched  # subject codes, in subject id order
        self.contested = contested  # codes sharing a component with another subject
        rows = [row for c in touched for row in index.member_rows(index.subject_name(c))]
        members = np.asarray(rows, dtype=np.int64)
        self.members = members[~np.isin(members, replaced)] if replaced else members
        self.codes = index.subject_codes(self.members)
        self._sorted = np.argsort(self.members)
        self.new_of = {key: i for i, key in enumerate(keys)}

    @property
    def size(self) -> int:
        return self.b + len(self.members)

    def local_of(self, rows: I64) -> I64:
        """Local id of each stored row (-1 for rows outside the touched subjects)."""
        if not len(self.members):
            return np.full(len(rows), -1, dtype=np.int64)
        ordered = self.members[self._sorted]
        at = np.minimum(np.searchsorted(ordered, rows), len(ordered) - 1)
        return np.where(ordered[at] == rows, self._sorted[at] + self.b, -1)

    def local(self, key: RecordKey) -> int | None:
        """Local id of a new or touched stored record."""
        if key in self.new_of:
            return self.new_of[key]
        row = self.index.row_of(key)
        if row is None:
            return None
        local = int(self.local_of(np.array([row]))[0])
        return None if local < 0 else local

    def subject_chains(self) -> list[tuple[int, int]]:
        """Must-links that hold each touched subject together."""
        _, first, inverse = np.unique(self.codes, return_index=True, return_inverse=True)
        local = np.arange(len(self.codes)) + self.b
        head = first[inverse] + self.b
        chained = head != local
        return list(zip(head[chained].tolist(), local[chained].tolist(), strict=True))


def touched_subjects(
    index: LinkIndex,
    scored: ScoredPairs,
    settings: LinkSettings,
    constraints: Sequence[KeyPair],
    new_of: dict[RecordKey, int],
) -> tuple[list[int], set[int]]:
    """Stored subjects a new record matches or is constrained with, and those contested.

    A subject is *contested* when new records (through strong pairs between them
    and with stored records) or constraints connect it with another touched
    subject: only then can the clustering merge it, so only then are pairs
    between its members and other subjects' members blocked and scored.
    """
    b = scored.b
    strong = (scored.probability >= settings.match_threshold) & (scored.right >= b)
    new_rows = scored.left[strong].tolist()
    codes = index.subject_codes(scored.right[strong] - b).tolist()
    links = _Components()
    for i, code in zip(new_rows, codes, strict=True):
        links.union(i, -1 - code)
    inner = (scored.probability >= settings.match_threshold) & (scored.right < b)
    for i, j in zip(scored.left[inner].tolist(), scored.right[inner].tolist(), strict=True):
        links.union(i, j)
    for a, c in constraints:
        if a in new_of or c in new_of:
            links.add(*[_node(index, new_of, key) for key in (a, c)])
            # an updated record's previous subject is touched too (its other members stay)
            links.add(*[_stored_node(index, key) for key in (a, c) if key in new_of])
    touched = sorted({-1 - n for n in links.nodes() if n < 0}, key=index.subject_name)
    return touched, links.contested()


def _node(index: LinkIndex, new_of: dict[RecordKey, int], key: RecordKey) -> int | None:
    """Component node of a record: its new row, or ``-1 - subject code`` if stored."""
    return new_of[key] if key in new_of else _stored_node(index, key)


def _stored_node(index: LinkIndex, key: RecordKey) -> int | None:
    row = index.row_of(key)
    return None if row is None else -1 - int(index.subject_codes(np.array([row]))[0])


class _Components:
    """Union-find over new rows (``>= 0``) and stored subjects (``-1 - code``)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent.setdefault(x, x)
        while parent != x:
            self.parent[x] = self.parent[parent]
            x, parent = parent, self.parent[parent]
        return x

    def union(self, a: int, c: int) -> None:
        ra, rc = self.find(a), self.find(c)
        if ra != rc:
            self.parent[ra] = rc

    def add(self, *nodes: int | None) -> None:
        """Add nodes (``None`` ignored); two given nodes are joined."""
        known = [self.find(node) for node in nodes if node is not None]
        if len(known) == 2 and len(nodes) == 2:
            self.union(*known)

    def nodes(self) -> list[int]:
        return list(self.parent)

    def contested(self) -> set[int]:
        """Subject codes whose component holds another subject."""
        by_root: dict[int, list[int]] = {}
        for node in self.parent:
            if node < 0:
                by_root.setdefault(self.find(node), []).append(-1 - node)
        return {code for codes in by_root.values() if len(codes) > 1 for code in codes}


def cross_subject_pairs(
    problem: LocalProblem, model: FellegiSunterModel, settings: LinkSettings
) -> tuple[I64, I64, F64]:
    """Blocked, scored pairs between members of different contested subjects."""
    empty = np.empty(0, dtype=np.int64)
    contested = np.flatnonzero(np.isin(problem.codes, list(problem.contested)))
    if not len(contested):
        return empty, empty, empty.astype(np.float64)
    members = problem.index.take(problem.members[contested])
    left, right, _ = candidate_pairs(members, settings.rules, max_block=settings.max_block)
    subject = problem.codes[contested]
    keep = subject[left] != subject[right]
    left, right = left[keep], right[keep]
    p = pair_probability(model, members, left, right)
    return contested[left] + problem.b, contested[right] + problem.b, p


def local_pairs(problem: LocalProblem, scored: ScoredPairs) -> tuple[I64, I64, F64]:
    """Scored pairs in local ids (pairs with untouched stored rows dropped)."""
    b = problem.b
    right = scored.right.copy()
    stored = right >= b
    right[stored] = problem.local_of(right[stored] - b)
    keep = right >= 0
    return scored.left[keep], right[keep], scored.probability[keep]
