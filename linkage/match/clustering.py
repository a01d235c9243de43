"""Clustering matched pairs into subjects (people) without chaining.

Taking connected components of all pairs above the match threshold is fragile:
one wrong link joins two people, and every further wrong link snowballs (twins,
juniors/seniors and very common names are the usual victims). Instead, pairs are
merged greedily from the most to the least probable, and two clusters are merged
only when the *average* match probability over all their cross pairs that were
scored (candidate pairs) reaches ``merge_threshold`` — a form of average-linkage
agglomerative clustering. A single strong link cannot pull a twin into her
sister's cluster when the twins themselves score as a non-match.

Reviewer decisions are hard constraints: must-link pairs are joined first,
cannot-link pairs are never placed in one cluster.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from linkage.errors import ConstraintError

__all__ = ["cluster_pairs"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_MAX_CROSS = 4096  # about this many cross pairs per merge decision (huge clusters sampled)


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
) -> I64:
    """Cluster records; returns a cluster label (a member's row index) per record.

    Args:
        n: Number of records.
        left, right, probability: Every scored candidate pair (``left < right``).
        match_threshold: Only pairs at or above this probability can link.
        merge_threshold: Minimum average probability over scored cross pairs for
            two multi-record clusters to merge.
        must_link, cannot_link: Reviewer constraints as row-index pairs.

    Raises:
        ConstraintError: if a must-link pair is also cannot-linked (transitively).
    """
    must = list(must_link)
    strong = probability >= match_threshold
    order = np.argsort(-probability[strong], kind="stable")
    edges = list(zip(left[strong][order].tolist(), right[strong][order].tolist(), strict=True))
    known = _known_probabilities(n, left, right, probability, must + edges)
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
        if len(ga) > 1 or len(gb) > 1:
            # Many edges can join the same two clusters: decide once per cluster state.
            state = (min(ra, rb), max(ra, rb), len(ga) + len(gb), len(ga) * len(gb))
            if state in rejected:
                continue
            if _cross_mean(known, n, ga, gb) < merge_threshold:
                rejected.add(state)
                continue
        clusters.union(ra, rb)
    return clusters.labels()


def _known_probabilities(
    n: int, left: I64, right: I64, probability: F64, links: list[tuple[int, int]]
) -> dict[int, float]:
    """Probabilities of the scored pairs that a merge decision can ever look at.

    Only pairs inside one connected component of the possible links (of three
    or more records) can be cross pairs of two multi-record clusters; keeping
    just those in a dict makes each look-up a hash probe instead of a search
    over every candidate pair.
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
    sizes = np.bincount(labels, minlength=n)
    keep = (labels[left] == labels[right]) & (sizes[labels[left]] > 2)
    codes = left[keep] * n + right[keep]
    return dict(zip(codes.tolist(), probability[keep].tolist(), strict=True))


def _cross_mean(known: dict[int, float], n: int, ga: list[int], gb: list[int]) -> float:
    """Mean probability over the scored pairs between two clusters (0 if none)."""
    limit = int(_MAX_CROSS**0.5)  # huge clusters: a regular sample of each side
    sample_a = ga[:: max(1, len(ga) // limit)]
    sample_b = gb[:: max(1, len(gb) // limit)]
    total, count = 0.0, 0
    for a in sample_a:
        for b in sample_b:
            p = known.get(a * n + b if a < b else b * n + a)
            if p is not None:
                total += p
                count += 1
    return total / count if count else 0.0
