"""Clustering matched pairs into subjects (people) without chaining.

Taking connected components of all pairs above the match threshold is fragile:
one wrong link joins two people, and every further wrong link snowballs (twins,
juniors/seniors and very common names are the usual victims). Instead, pairs are
merged greedily from the most to the least probable, and two clusters are merged
only when the *average* match probability over **all** their cross pairs reaches
``merge_threshold`` — average-linkage agglomerative clustering. Cross pairs that
blocking never compared are scored on demand by a :class:`PairScorer` (they are
the ones most likely to disagree: two people chained through a bridge record
usually share no name token and no phone, which is why blocking left them out);
all pairs inside each small component of possible links are scored in one
vectorised call up front, and for large clusters a regular sample of about
:data:`_MAX_CROSS` cross pairs stands for the whole.

A merge is also refused when any cross pair is a *hard contradiction*
(:mod:`linkage.match.contradictions`): a *pair-level* one (consecutive or
wholly different SSNs, Jr against Sr) even between two single records, a
*cluster-level* one (birth years a generation apart) when a cluster of several
records would absorb it — one pair of records with dates decades apart may be
a keying slip, a whole cluster that holds both is two people. A single strong
link cannot pull a twin into her sister's cluster.

Reviewer decisions are hard constraints: must-link pairs are joined first (even
across a contradiction), cannot-link pairs are never placed in one cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
import numpy.typing as npt

from linkage.errors import ConstraintError

__all__ = ["PairScorer", "cluster_pairs"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int8]
#: Contradiction severities: none, blocks merging clusters, blocks even a pair.
NO_CONTRADICTION, CLUSTER_CONTRADICTION, PAIR_CONTRADICTION = 0, 1, 2
_MAX_CROSS = 4096  # about this many cross pairs per merge decision (huge clusters sampled)
#: Components of possible links up to this size get all their pairs scored up front.
_SMALL_COMPONENT = 64


class PairScorer(Protocol):
    """Scores pairs of row indices: ``(match_probability, contradiction severity)``."""

    def __call__(self, left: I64, right: I64, /) -> tuple[F64, I8]: ...


class _Clusters:
    """Union–find with member lists and cannot-link bookkeeping."""

    def __init__(self, n: int, cannot: dict[int, set[int]]) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {}
        self.cannot = cannot

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def group(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def forbidden(self, ra: int, rb: int) -> bool:
        if not self.cannot:
            return False
        small, other = (ra, rb) if len(self.group(ra)) <= len(self.group(rb)) else (rb, ra)
        return any(
            self.find(partner) == other
            for member in self.group(small)
            for partner in self.cannot.get(member, ())
        )

    def union(self, ra: int, rb: int) -> None:
        """Join two roots; the smaller member list is appended to the larger."""
        if len(self.group(ra)) < len(self.group(rb)):
            ra, rb = rb, ra
        big = self.members.setdefault(ra, [ra])
        big.extend(self.members.pop(rb, [rb]))
        self.parent[rb] = ra

    def labels(self) -> I64:
        return np.array([self.find(i) for i in range(len(self.parent))], dtype=np.int64)


def _constraint_map(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def cluster_pairs(
    n: int,
    left: I64,
    right: I64,
    probability: F64,
    *,
    match_threshold: float,
    merge_threshold: float = 0.5,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
    scorer: PairScorer | None = None,
    contradicts: I8 | None = None,
) -> I64:
    """Cluster records; returns a cluster label (a member's row index) per record.

    Args:
        n: Number of records.
        left, right, probability: Every scored candidate pair (``left < right``).
        match_threshold: Only pairs at or above this probability can link.
        merge_threshold: Minimum average probability over the cross pairs for
            two clusters (one of them multi-record) to merge.
        must_link, cannot_link: Reviewer constraints as row-index pairs.
        scorer: Scores pairs that are not candidates, so that every cross pair
            counts; without it only candidate pairs count (and no contradiction
            is known beyond ``contradicts``).
        contradicts: Contradiction severity of each candidate pair (none if ``None``).

    Raises:
        ConstraintError: if a must-link pair is also cannot-linked (transitively).
    """
    must = list(must_link)
    strong = probability >= match_threshold
    order = np.argsort(-probability[strong], kind="stable")
    edges = list(zip(left[strong][order].tolist(), right[strong][order].tolist(), strict=True))
    known = _known_probabilities(n, left, right, probability, must + edges, contradicts)
    cross = _CrossPairs(n, known, scorer)
    if scorer is not None:
        cross.score_components(must + edges)
    clusters = _Clusters(n, _constraint_map(cannot_link))
    for a, b in must:
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb:
            if clusters.forbidden(ra, rb):
                raise ConstraintError("a must-link constraint contradicts a cannot-link constraint")
            clusters.union(ra, rb)
    rejected: set[tuple[int, int, int, int]] = set()
    for a, b in edges:
        ra, rb = clusters.find(a), clusters.find(b)
        if ra == rb or clusters.forbidden(ra, rb):
            continue
        ga, gb = clusters.group(ra), clusters.group(rb)
        if len(ga) == 1 and len(gb) == 1:
            if not cross.contradiction(a, b):
                clusters.union(ra, rb)
            continue
        # Many edges can join the same two clusters: decide once per cluster state.
        state = (min(ra, rb), max(ra, rb), len(ga) + len(gb), len(ga) * len(gb))
        if state in rejected:
            continue
        if cross.mean(ga, gb) < merge_threshold:
            rejected.add(state)
            continue
        clusters.union(ra, rb)
    return clusters.labels()


def _known_probabilities(
    n: int,
    left: I64,
    right: I64,
    probability: F64,
    links: list[tuple[int, int]],
    contradicts: I8 | None,
) -> dict[int, float]:
    """Probabilities of the scored pairs that a merge decision can ever look at.

    Only pairs inside one connected component of the possible links can be
    cross pairs of two clusters; keeping just those in a dict makes each
    look-up a hash probe instead of a search over every candidate pair. A
    contradicting pair is stored as a negative number (see :func:`_with_severity`).
    """
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    labels = np.array([find(i) for i in range(n)], dtype=np.int64)
    keep = labels[left] == labels[right]
    codes = left[keep] * n + right[keep]
    stored = probability[keep]
    if contradicts is not None:
        stored = _with_severity(stored, contradicts[keep])
    return dict(zip(codes.tolist(), stored.tolist(), strict=True))


def _with_severity(p: F64, severity: I8) -> F64:
    """``p`` in [0, 1]; ``-1 - p`` for a cluster-level contradiction, ``-3 - p`` pair-level."""
    out: F64 = np.where(
        severity >= PAIR_CONTRADICTION, -3.0 - p, np.where(severity > 0, -1.0 - p, p)
    )
    return out


class _CrossPairs:
    """Probabilities (and contradictions) of cross pairs, scored on demand and cached.

    ``known`` maps ``a * n + b`` (``a < b``) to the pair's probability, or to a
    negative number for a contradicting pair (see :func:`_with_severity`).
    """

    def __init__(self, n: int, known: dict[int, float], scorer: PairScorer | None) -> None:
        self.n, self.known, self.scorer = n, known, scorer

    def score_components(self, links: list[tuple[int, int]]) -> None:
        """Score every pair inside each small component of ``links`` in one call."""
        groups: dict[int, list[int]] = {}
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in links:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        for node in parent:
            groups.setdefault(find(node), []).append(node)
        left, right = [], []
        for members in groups.values():
            if 2 < len(members) <= _SMALL_COMPONENT:
                ids = np.sort(np.asarray(members, dtype=np.int64))
                i, j = np.triu_indices(len(ids), k=1)
                left.append(ids[i])
                right.append(ids[j])
        if left:
            self._score(np.concatenate(left), np.concatenate(right))

    def _score(self, left: I64, right: I64) -> None:
        """Score the pairs not yet known (``left < right``) and remember them."""
        codes = left * self.n + right
        todo = np.fromiter((c not in self.known for c in codes.tolist()), bool, len(codes))
        if not todo.any() or self.scorer is None:
            return
        p, bad = self.scorer(left[todo], right[todo])
        stored = _with_severity(p, bad)
        self.known.update(zip(codes[todo].tolist(), stored.tolist(), strict=True))

    def contradiction(self, a: int, b: int) -> bool:
        """Whether the pair ``(a, b)`` is a known pair-level contradiction."""
        p = self.known.get(a * self.n + b if a < b else b * self.n + a)
        return p is not None and p < -2.0

    def mean(self, ga: list[int], gb: list[int]) -> float:
        """Mean probability over the cross pairs of two clusters; ``-1`` on a contradiction.

        With a scorer every (sampled) cross pair counts, compared or not;
        without one only the candidate pairs do (0 if there are none).
        """
        limit = int(_MAX_CROSS**0.5)  # huge clusters: a regular sample of each side
        sample_a = np.asarray(ga[:: max(1, len(ga) // limit)], dtype=np.int64)
        sample_b = np.asarray(gb[:: max(1, len(gb) // limit)], dtype=np.int64)
        a = np.repeat(sample_a, len(sample_b))
        b = np.tile(sample_b, len(sample_a))
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        if self.scorer is not None:
            self._score(lo, hi)
        found = [self.known.get(c) for c in (lo * self.n + hi).tolist()]
        values = [p for p in found if p is not None]
        if any(p < 0 for p in values):
            return -1.0
        return sum(values) / len(values) if values else 0.0
