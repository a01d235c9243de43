import numpy as np
import pytest

from linkage.errors import ConstraintError
from linkage.match.clustering import cluster_pairs


def _cluster(n: int, edges: dict[tuple[int, int], float], **kwargs: object) -> list[set[int]]:
    left = np.array([a for a, _ in edges], dtype=np.int64)
    right = np.array([b for _, b in edges], dtype=np.int64)
    prob = np.array(list(edges.values()), dtype=np.float64)
    labels = cluster_pairs(n, left, right, prob, match_threshold=0.5, **kwargs)  # type: ignore[arg-type]
    groups: dict[int, set[int]] = {}
    for row, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(row)
    return sorted(groups.values(), key=min)


def test_one_bad_link_does_not_chain_twins_together() -> None:
    # 0 and 1 are twins (scored as a non-match); record 2 looks like either of them.
    edges = {(0, 1): 0.02, (0, 2): 0.95, (1, 2): 0.80}
    assert _cluster(3, edges) == [{0, 2}, {1}]


def test_consistent_triangle_is_one_subject() -> None:
    edges = {(0, 1): 0.99, (1, 2): 0.97, (0, 2): 0.6}
    assert _cluster(3, edges) == [{0, 1, 2}]


def test_unscored_cross_pairs_do_not_block_a_merge() -> None:
    # 0-2 never met in blocking (e.g. a changed surname): only scored pairs count.
    edges = {(0, 1): 0.99, (1, 2): 0.9}
    assert _cluster(3, edges) == [{0, 1, 2}]


def test_below_threshold_pairs_never_link() -> None:
    assert _cluster(2, {(0, 1): 0.49}) == [{0}, {1}]


def test_must_link_and_cannot_link_constraints_are_honoured() -> None:
    edges = {(0, 1): 0.99, (2, 3): 0.1}
    assert _cluster(4, edges, cannot_link=[(0, 1)], must_link=[(2, 3)]) == [{0}, {1}, {2, 3}]


def test_cannot_link_holds_transitively() -> None:
    edges = {(0, 1): 0.99, (1, 2): 0.99, (0, 2): 0.99}
    clusters = _cluster(3, edges, cannot_link=[(0, 2)])
    assert all(not {0, 2} <= group for group in clusters)


def test_contradictory_constraints_are_an_error() -> None:
    with pytest.raises(ConstraintError):
        _cluster(3, {}, must_link=[(0, 1), (1, 2)], cannot_link=[(0, 2)])


def _scorer(table: dict[tuple[int, int], tuple[float, int]]):  # type: ignore[no-untyped-def]
    """A pair scorer over a fixed table of (probability, severity); unknown pairs 0.0."""

    def score(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pairs = zip(left.tolist(), right.tolist(), strict=True)
        found = [table.get(pair, (0.0, 0)) for pair in pairs]
        return (
            np.array([p for p, _ in found], dtype=np.float64),
            np.array([c for _, c in found], dtype=np.int8),
        )

    return score


def test_pairs_blocking_never_compared_vote_against_a_chained_merge() -> None:
    # 0-1 is one person, 2-3 another; record 1 and 2 look alike (a bridge).
    # 0-2, 0-3, 1-3 were never candidates: scored on demand they are non-matches.
    edges = {(0, 1): 0.99, (2, 3): 0.98, (1, 2): 0.9}
    scorer = _scorer({(0, 2): (0.01, 0), (0, 3): (0.01, 0), (1, 3): (0.02, 0)})
    assert _cluster(4, edges) == [{0, 1, 2, 3}]  # without the scorer: only 1-2 votes
    assert _cluster(4, edges, scorer=scorer) == [{0, 1}, {2, 3}]


def test_a_pair_level_contradiction_keeps_two_records_apart() -> None:
    edges = {(0, 1): 0.99}
    contradicts = np.array([2], dtype=np.int8)
    assert _cluster(2, edges, contradicts=contradicts) == [{0}, {1}]


def test_a_cluster_level_contradiction_blocks_only_merges_of_clusters() -> None:
    # Two records a generation apart may be one person with a mistyped year ...
    assert _cluster(2, {(0, 1): 0.99}, contradicts=np.array([1], dtype=np.int8)) == [{0, 1}]
    # ... but a cluster that would hold a junior's and his father's records is two people.
    edges = {(0, 1): 0.99, (2, 3): 0.99, (1, 2): 0.95, (0, 2): 0.9, (1, 3): 0.9, (0, 3): 0.9}
    contradicts = np.array([0, 0, 0, 0, 0, 1], dtype=np.int8)
    assert _cluster(4, edges, contradicts=contradicts) == [{0, 1}, {2, 3}]


def test_must_link_wins_over_a_contradiction() -> None:
    labels = _cluster(2, {(0, 1): 0.99}, contradicts=np.array([2], np.int8), must_link=[(0, 1)])
    assert labels == [{0, 1}]
