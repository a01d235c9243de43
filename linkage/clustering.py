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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from linkage.errors import ConstraintError

__all__ = ["ScoredPairs", "cluster_pairs"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
_MAX_CROSS = 4096  # cross pairs checked per merge decision (huge clusters are sampled)


@dataclass
class ScoredPairs:
    """All scored candidate pairs, sorted by code ``left * n + right`` for look-up."""

    n: int
    codes: I64
    probability: F64

    @classmethod
    def build(cls, n: int, left: I64, right: I64, probability: F64) -> ScoredPairs:
        """Index pairs (``left < right``) for fast look-up."""
        codes = left * n + right
        order = np.argsort(codes)
        return cls(n, codes[order], probability[order])

    def lookup(self, a: I64, b: I64) -> F64:
        """Probabilities of pairs ``(a[i], b[i])``; NaN where the pair was not scored."""
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        codes = lo * self.n + hi
        pos = np.clip(np.searchsorted(self.codes, codes), 0, max(len(self.codes) - 1, 0))
        found = self.codes[pos] == codes if len(self.codes) else np.zeros(len(codes), bool)
        return np.where(found, self.probability[pos] if len(self.codes) else np.nan, np.nan)


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
        small, other = (ra, rb) if len(self.group(ra)) <= len(self.group(rb)) else (rb, ra)
        return any(
            self.find(partner) == other
            for member in self.group(small)
            for partner in self.cannot.get(member, ())
        )

    def union(self, ra: int, rb: int) -> None:
        if len(self.group(ra)) < len(self.group(rb)):
            ra, rb = rb, ra
        merged = self.group(ra) + self.group(rb)
        self.parent[rb] = ra
        self.members.pop(rb, None)
        self.members[ra] = merged

    def labels(self) -> I64:
        return np.array([self.find(i) for i in range(len(self.parent))], dtype=np.int64)


def _constraint_map(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def cluster_pairs(
    scored: ScoredPairs,
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
        scored: Every scored candidate pair, for cross-pair look-ups.
        left, right, probability: The pairs to consider as links.
        match_threshold: Only pairs at or above this probability can link.
        merge_threshold: Minimum average probability over scored cross pairs for
            two multi-record clusters to merge.
        must_link, cannot_link: Reviewer constraints as row-index pairs.

    Raises:
        ConstraintError: if a must-link pair is also cannot-linked (transitively).
    """
    clusters = _Clusters(scored.n, _constraint_map(cannot_link))
    for a, b in must_link:
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb:
            if clusters.forbidden(ra, rb):
                raise ConstraintError("a must-link constraint contradicts a cannot-link constraint")
            clusters.union(ra, rb)
    strong = probability >= match_threshold
    order = np.argsort(-probability[strong], kind="stable")
    for a, b in zip(left[strong][order].tolist(), right[strong][order].tolist(), strict=True):
        ra, rb = clusters.find(a), clusters.find(b)
        if ra == rb or clusters.forbidden(ra, rb):
            continue
        ga, gb = clusters.group(ra), clusters.group(rb)
        if (len(ga) > 1 or len(gb) > 1) and _cross_mean(scored, ga, gb) < merge_threshold:
            continue
        clusters.union(ra, rb)
    return clusters.labels()


def _cross_mean(scored: ScoredPairs, ga: list[int], gb: list[int]) -> float:
    a = np.repeat(np.asarray(ga, dtype=np.int64), len(gb))
    b = np.tile(np.asarray(gb, dtype=np.int64), len(ga))
    if len(a) > _MAX_CROSS:
        pick = np.linspace(0, len(a) - 1, _MAX_CROSS).astype(np.int64)
        a, b = a[pick], b[pick]
    probs = scored.lookup(a, b)
    known = probs[~np.isnan(probs)]
    return float(known.mean()) if len(known) else 0.0
