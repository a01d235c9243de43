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
