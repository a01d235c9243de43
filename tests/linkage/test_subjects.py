import hashlib
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from linkage.encode.keys import generate_secret, write_secret
from linkage.errors import KeyFileError
from linkage.match.subject_key import (
    SubjectIdKey,
    is_subject_id,
    read_subject_key,
    write_subject_key,
)
from linkage.match.subjects import assign_subject_ids

KEYS = [("police", f"P{i}") for i in range(6)]
ID_KEY = SubjectIdKey(bytes(range(32)))


def test_ids_are_deterministic_without_previous() -> None:
    labels = np.array([0, 0, 2, 3, 3, 5])
    first, _ = assign_subject_ids(KEYS, labels, id_key=ID_KEY)
    second, _ = assign_subject_ids(KEYS, labels, id_key=ID_KEY)
    assert first == second
    assert first[0] == first[1] != first[2]


def test_persisting_clusters_keep_their_ids_and_new_ones_get_fresh_ids() -> None:
    old, _ = assign_subject_ids(KEYS, np.array([0, 0, 2, 3, 3, 5]), id_key=ID_KEY)
    previous = dict(zip(KEYS, old, strict=True))
    new, events = assign_subject_ids(KEYS, np.array([0, 0, 2, 3, 4, 5]), previous, id_key=ID_KEY)
    assert new[:4] == old[:4]
    assert new[4] not in old
    assert [e.kind for e in events] == ["split"]


def test_merge_keeps_the_larger_side_id_and_reports_the_merge() -> None:
    old, _ = assign_subject_ids(KEYS, np.array([0, 0, 0, 3, 4, 5]), id_key=ID_KEY)
    previous = dict(zip(KEYS, old, strict=True))
    new, events = assign_subject_ids(KEYS, np.array([0, 0, 0, 0, 4, 5]), previous, id_key=ID_KEY)
    assert new[3] == old[0]
    assert events[0].kind == "merge"
    assert set(events[0].previous_ids) == {old[0], old[3]}


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_relinking_to_the_same_clusters_keeps_every_id(raw: list[int]) -> None:
    keys = [("a", str(i)) for i in range(len(raw))]
    labels = np.array(raw)
    first, _ = assign_subject_ids(keys, labels, id_key=ID_KEY)
    again, events = assign_subject_ids(
        keys, labels, dict(zip(keys, first, strict=True)), id_key=ID_KEY
    )
    assert again == first
    assert events == []


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_relinking_under_another_key_still_keeps_every_id(raw: list[int]) -> None:
    keys = [("a", str(i)) for i in range(len(raw))]
    labels = np.array(raw)
    first, _ = assign_subject_ids(keys, labels, id_key=ID_KEY)
    rotated = SubjectIdKey(bytes(range(1, 33)))
    again, events = assign_subject_ids(
        keys, labels, dict(zip(keys, first, strict=True)), id_key=rotated
    )
    assert again == first
    assert events == []


def _unkeyed(agency: str, record_id: str) -> str:
    """The id the unkeyed formula gave (issue 11): computable by anyone."""
    return "S-" + hashlib.sha256(f"{agency}\x1f{record_id}\x1e0".encode()).hexdigest()[:16]


def test_an_id_cannot_be_computed_from_agency_and_record_id_alone() -> None:
    ids, _ = assign_subject_ids(KEYS, np.arange(len(KEYS)), id_key=ID_KEY)
    assert all(is_subject_id(i) for i in ids)
    assert not {_unkeyed(a, r) for a, r in KEYS} & set(ids)


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_ids_are_deterministic_per_key_and_differ_across_keys(one: bytes, two: bytes) -> None:
    assume(one != two)
    labels = np.array([0, 0, 2, 3, 3, 5])
    first, _ = assign_subject_ids(KEYS, labels, id_key=SubjectIdKey(one))
    same, _ = assign_subject_ids(KEYS, labels, id_key=SubjectIdKey(one))
    other, _ = assign_subject_ids(KEYS, labels, id_key=SubjectIdKey(two))
    assert first == same
    assert not set(first) & set(other)


def test_a_key_derived_from_a_root_is_stable_and_separates_roots() -> None:
    root, other_root = bytes(range(32)), bytes(range(2, 34))
    member = ("police", "P1")
    derived = SubjectIdKey.from_root(root).subject_id(member)
    assert SubjectIdKey.from_root(root).subject_id(member) == derived
    assert SubjectIdKey.from_root(other_root).subject_id(member) != derived
    assert SubjectIdKey(root).subject_id(member) != derived  # HKDF, not the root itself


def test_length_prefixing_keeps_member_keys_apart() -> None:
    assert ID_KEY.subject_id(("ab", "c")) != ID_KEY.subject_id(("a", "bc"))


@pytest.mark.parametrize("key", [b"", bytes(31), "0" * 64])
def test_short_or_non_bytes_keys_are_refused(key: object) -> None:
    with pytest.raises(KeyFileError, match="at least 32 bytes"):
        SubjectIdKey(key)  # type: ignore[arg-type]


def test_the_key_never_shows_in_its_repr() -> None:
    assert bytes(range(32)).hex() not in repr(ID_KEY)
    assert "secret" in repr(ID_KEY)


def test_key_files_round_trip_are_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "subject.key"
    write_subject_key(path, ID_KEY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_subject_key(path).subject_id(KEYS[0]) == ID_KEY.subject_id(KEYS[0])
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_subject_key(path, SubjectIdKey.generate())


def test_a_linkage_secret_is_not_accepted_as_a_subject_id_key(tmp_path: Path) -> None:
    path = tmp_path / "linkage.key"
    write_secret(path, generate_secret())
    with pytest.raises(KeyFileError, match="not a subject-id key file"):
        read_subject_key(path)
