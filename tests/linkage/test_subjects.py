import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from linkage.match.subjects import assign_subject_ids

KEYS = [("police", f"P{i}") for i in range(6)]


def test_ids_are_deterministic_without_previous() -> None:
    labels = np.array([0, 0, 2, 3, 3, 5])
    first, _ = assign_subject_ids(KEYS, labels)
    second, _ = assign_subject_ids(KEYS, labels)
    assert first == second
    assert first[0] == first[1] != first[2]


def test_persisting_clusters_keep_their_ids_and_new_ones_get_fresh_ids() -> None:
    old, _ = assign_subject_ids(KEYS, np.array([0, 0, 2, 3, 3, 5]))
    previous = dict(zip(KEYS, old, strict=True))
    new, events = assign_subject_ids(KEYS, np.array([0, 0, 2, 3, 4, 5]), previous)
    assert new[:4] == old[:4]
    assert new[4] not in old
    assert [e.kind for e in events] == ["split"]


def test_merge_keeps_the_larger_side_id_and_reports_the_merge() -> None:
    old, _ = assign_subject_ids(KEYS, np.array([0, 0, 0, 3, 4, 5]))
    previous = dict(zip(KEYS, old, strict=True))
    new, events = assign_subject_ids(KEYS, np.array([0, 0, 0, 0, 4, 5]), previous)
    assert new[3] == old[0]
    assert events[0].kind == "merge"
    assert set(events[0].previous_ids) == {old[0], old[3]}


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_relinking_to_the_same_clusters_keeps_every_id(raw: list[int]) -> None:
    keys = [("a", str(i)) for i in range(len(raw))]
    labels = np.array(raw)
    first, _ = assign_subject_ids(keys, labels)
    again, events = assign_subject_ids(keys, labels, dict(zip(keys, first, strict=True)))
    assert again == first
    assert events == []
